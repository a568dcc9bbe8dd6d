{{/*
Helpers shared by every template. Names are prefixed by the chart (`skyras.`);
the ones taking a component are called with a dict:
  include "skyras.labels" (dict "ctx" $ "component" "hub")
*/}}

{{/* The chart's name, or nameOverride. */}}
{{- define "skyras.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every resource name: fullnameOverride, or "<release>-<chart>" (just the release when it already contains the chart name). */}}
{{- define "skyras.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* A component's resource name: "<fullname>-<component>". */}}
{{- define "skyras.componentName" -}}
{{- printf "%s-%s" (include "skyras.fullname" .ctx) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* "<chart>-<version>" for the helm.sh/chart label. */}}
{{- define "skyras.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: name, instance and component only (selectors are immutable). */}}
{{- define "skyras.selectorLabels" -}}
app.kubernetes.io/name: {{ include "skyras.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- with .component }}
app.kubernetes.io/component: {{ . }}
{{- end }}
{{- end }}

{{/* Every label of a resource: the selector labels plus version, part-of, managed-by, chart and commonLabels. */}}
{{- define "skyras.labels" -}}
{{ include "skyras.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: skyras
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ include "skyras.chart" .ctx }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
A SkyRas image reference: [image.registry/]repository:tag, the tag defaulting
to image.tag and then to the chart's appVersion.
  include "skyras.image" (dict "ctx" $ "image" .Values.hub.image)
*/}}
{{- define "skyras.image" -}}
{{- $registry := .ctx.Values.image.registry -}}
{{- $tag := .image.tag | default .ctx.Values.image.tag | default .ctx.Chart.AppVersion | toString -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" $registry) .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end }}

{{/* A third-party image (Postgres, Redis): repository:tag, as given. */}}
{{- define "skyras.thirdPartyImage" -}}
{{- printf "%s:%s" .repository (toString .tag) -}}
{{- end }}

{{/* imagePullSecrets of a pod spec, when any. */}}
{{- define "skyras.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The value of one key of a Secret this chart generates: the one already in the
cluster (so upgrades keep it), else a new one. Returns it base64-encoded.
  include "skyras.secretValue" (dict "ctx" $ "name" $secretName "key" "password" "new" (randAlphaNum 32))
*/}}
{{- define "skyras.secretValue" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .name -}}
{{- if and $existing $existing.data (hasKey $existing.data .key) -}}
{{- index $existing.data .key -}}
{{- else -}}
{{- .new | b64enc -}}
{{- end -}}
{{- end }}

{{/* A new API key in the hub's format: sk_<prefix>_<secret>. */}}
{{- define "skyras.newApiKey" -}}
{{- printf "sk_%s_%s" (randAlphaNum 8 | lower) (randAlphaNum 43) -}}
{{- end }}

{{/* The Secret holding the bootstrap API keys (operator, frontend, admin, test). */}}
{{- define "skyras.apiKeys.secretName" -}}
{{- .Values.apiKeys.existingSecret | default (printf "%s-api-keys" (include "skyras.fullname" .)) -}}
{{- end }}

{{/* The Secret holding the in-chart Postgres password. */}}
{{- define "skyras.postgres.secretName" -}}
{{- .Values.postgres.existingSecret | default (printf "%s-postgres" (include "skyras.fullname" .)) -}}
{{- end }}

{{/* The Secret holding the in-chart Redis password. */}}
{{- define "skyras.redis.secretName" -}}
{{- .Values.redis.existingSecret | default (printf "%s-redis" (include "skyras.fullname" .)) -}}
{{- end }}

{{/* The Secret holding the external URLs given in values. */}}
{{- define "skyras.external.secretName" -}}
{{- printf "%s-external" (include "skyras.fullname" .) -}}
{{- end }}

{{/* Postgres's host (the in-chart Service) and Redis's. */}}
{{- define "skyras.postgres.host" -}}
{{- printf "%s.%s.svc" (include "skyras.componentName" (dict "ctx" . "component" "postgres")) .Release.Namespace -}}
{{- end }}
{{- define "skyras.redis.host" -}}
{{- printf "%s.%s.svc" (include "skyras.componentName" (dict "ctx" . "component" "redis")) .Release.Namespace -}}
{{- end }}

{{/* The hub's URL inside the cluster. */}}
{{- define "skyras.hub.url" -}}
{{- printf "http://%s.%s.svc:%d" (include "skyras.componentName" (dict "ctx" . "component" "hub")) .Release.Namespace (int .Values.hub.service.port) -}}
{{- end }}

{{/*
SKYRAS_DATABASE_URL as env entries: built from the in-chart Postgres's Secret
(Kubernetes expands $(SKYRAS_POSTGRES_PASSWORD)), or read from the external
URL's Secret.
*/}}
{{- define "skyras.databaseEnv" -}}
{{- if .Values.postgres.enabled }}
- name: SKYRAS_POSTGRES_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "skyras.postgres.secretName" . }}
      key: password
- name: SKYRAS_DATABASE_URL
  value: {{ printf "postgresql://%s:$(SKYRAS_POSTGRES_PASSWORD)@%s:5432/%s" .Values.postgres.username (include "skyras.postgres.host" .) .Values.postgres.database | quote }}
{{- else }}
- name: SKYRAS_DATABASE_URL
  valueFrom:
    secretKeyRef:
      {{- if .Values.postgres.external.url }}
      name: {{ include "skyras.external.secretName" . }}
      key: database-url
      {{- else }}
      name: {{ .Values.postgres.external.existingSecret }}
      key: {{ .Values.postgres.external.urlKey }}
      {{- end }}
{{- end }}
{{- end }}

{{/* SKYRAS_REDIS_URL as env entries (same scheme as the database's). */}}
{{- define "skyras.redisEnv" -}}
{{- if .Values.redis.enabled }}
- name: SKYRAS_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "skyras.redis.secretName" . }}
      key: password
- name: SKYRAS_REDIS_URL
  value: {{ printf "redis://:$(SKYRAS_REDIS_PASSWORD)@%s:6379/0" (include "skyras.redis.host" .) | quote }}
{{- else }}
- name: SKYRAS_REDIS_URL
  valueFrom:
    secretKeyRef:
      {{- if .Values.redis.external.url }}
      name: {{ include "skyras.external.secretName" . }}
      key: redis-url
      {{- else }}
      name: {{ .Values.redis.external.existingSecret }}
      key: {{ .Values.redis.external.urlKey }}
      {{- end }}
{{- end }}
{{- end }}

{{/* Logging env of the Python services. */}}
{{- define "skyras.logEnv" -}}
- name: SKYRAS_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: SKYRAS_LOG_FORMAT
  value: json
{{- end }}

{{/* The pod-level securityContext, automount and pull secrets of a SkyRas pod. */}}
{{- define "skyras.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- include "skyras.imagePullSecrets" . }}
{{- end }}

{{/*
Fails the render with a readable message when values contradict each other
(values.schema.json catches wrong types and unknown keys first).
*/}}
{{- define "skyras.validateValues" -}}
{{- $errors := list }}
{{- if and (not .Values.postgres.enabled) (not .Values.postgres.external.url) (not .Values.postgres.external.existingSecret) }}
{{- $errors = append $errors "postgres: postgres.enabled is false, so set postgres.external.url or postgres.external.existingSecret (the database SkyRas uses)" }}
{{- end }}
{{- if and (not .Values.redis.enabled) (not .Values.redis.external.url) (not .Values.redis.external.existingSecret) }}
{{- $errors = append $errors "redis: redis.enabled is false, so set redis.external.url or redis.external.existingSecret" }}
{{- end }}
{{- range $name, $agent := .Values.agents }}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $name) }}
{{- $errors = append $errors (printf "agents.%s: an agent's name must be a DNS label (lowercase letters, digits, '-')" $name) }}
{{- end }}
{{- if and $agent.enabled (not ($.Files.Get (printf "files/agents/%s.yaml" $name))) (not (and $agent.spec (hasKey $agent.spec "port"))) }}
{{- $errors = append $errors (printf "agents.%s: no files/agents/%s.yaml in the chart, so agents.%s.spec must give at least port (and command, routes)" $name $name $name) }}
{{- end }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.frontend.enabled) }}
{{- $errors = append $errors "ingress: the Ingress exposes the frontend; enable frontend.enabled or disable ingress.enabled" }}
{{- end }}
{{- if and .Values.ingress.tls.enabled (not .Values.ingress.tls.secretName) }}
{{- $errors = append $errors "ingress.tls: give ingress.tls.secretName (the Secret holding the certificate)" }}
{{- end }}
{{- if $errors }}
{{- fail (printf "\n\nSkyRas values are not valid:\n  - %s\n" (join "\n  - " $errors)) }}
{{- end }}
{{- end }}

{{/* Egress rules to Postgres and Redis: the in-chart pods, or anywhere on 5432/6379 when external. */}}
{{- define "skyras.networkPolicy.dataEgress" -}}
{{- range $c, $port := dict "postgres" 5432 "redis" 6379 }}
{{- if (index $.Values $c).enabled }}
- to:
    - podSelector:
        matchLabels:
          {{- include "skyras.selectorLabels" (dict "ctx" $ "component" $c) | nindent 10 }}
  ports:
    - port: {{ $port }}
{{- else }}
- ports:
    - port: {{ $port }}
{{- end }}
{{- end }}
{{- end }}
