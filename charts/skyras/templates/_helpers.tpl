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

{{/*
The platform env of every agent: database, Redis and logging. Given to the
operator once (SKYRAS_OPERATOR_AGENT_ENV), which prepends it to the env of
every Agent in the release's namespace, the chart's and `kubectl apply`'d alike.
*/}}
{{- define "skyras.platformEnv" -}}
{{ include "skyras.databaseEnv" . }}
{{ include "skyras.redisEnv" . }}
{{ include "skyras.logEnv" . }}
{{- end }}

{{/*
The spec of the Agent rendered for agents.<name> (YAML, read with fromYaml):
files/agents/<name>.yaml, then the image, replicas, autoscaling, resources of
the values, the storage's volumes, mounts, env and strategy, the values' env
(whose names win), then `spec` over everything.
  include "skyras.agentSpec" (dict "ctx" $ "name" $name "agent" $agent)
*/}}
{{- define "skyras.agentSpec" -}}
{{- $ctx := .ctx }}
{{- $agent := .agent }}
{{- $file := $ctx.Files.Get (printf "files/agents/%s.yaml" .name) }}
{{- $spec := dict }}
{{- if $file }}
{{- $spec = (fromYaml $file).spec | default dict }}
{{- end }}
{{- $_ := set $spec "image" (include "skyras.image" (dict "ctx" $ctx "image" $agent.image)) }}
{{- $_ := set $spec "imagePullPolicy" $ctx.Values.image.pullPolicy }}
{{- if hasKey $agent "replicas" }}
{{- $_ := set $spec "replicas" $agent.replicas }}
{{- end }}
{{- if $agent.autoscaling }}
{{- $_ := set $spec "autoscaling" (mergeOverwrite (deepCopy ($spec.autoscaling | default dict)) $agent.autoscaling) }}
{{- end }}
{{- if $agent.resources }}
{{- $_ := set $spec "resources" $agent.resources }}
{{- end }}
{{- $storage := dict }}
{{- if $agent.storage }}
{{- $storage = include "skyras.agentStorage" (dict "ctx" $ctx "name" .name "storage" $agent.storage) | fromYaml }}
{{- end }}
{{- $own := dict }}
{{- range ($agent.env | default list) }}
{{- $_ := set $own .name true }}
{{- end }}
{{- $env := list }}
{{- range (concat ($spec.env | default list) ($storage.env | default list)) }}
{{- if not (hasKey $own .name) }}
{{- $env = append $env . }}
{{- end }}
{{- end }}
{{- $_ := set $spec "env" (concat $env ($agent.env | default list) | default list) }}
{{- range $key := list "volumes" "volumeMounts" }}
{{- if hasKey $storage $key }}
{{- $_ := set $spec $key (concat (get $spec $key | default list) (get $storage $key)) }}
{{- end }}
{{- end }}
{{- with $storage.strategy }}
{{- $_ := set $spec "strategy" . }}
{{- end }}
{{- $spec = mergeOverwrite $spec (deepCopy ($agent.spec | default dict)) }}
{{- toYaml $spec }}
{{- end }}

{{/*
Where an agent keeps its files (agents.<name>.storage), as a piece of its spec
(YAML: env, volumes, volumeMounts, strategy). S3 when a bucket is named: the
SKYRAS_S3_* env, no volume. Otherwise a volume on storage.mountPath, which
becomes SKYRAS_DATA_DIR: the claim (or an emptyDir without persistence), with
strategy Recreate unless the claim is ReadWriteMany (a ReadWriteOnce volume
cannot be attached to the old pod and the new one at once).
  include "skyras.agentStorage" (dict "ctx" $ "name" $name "storage" $agent.storage)
*/}}
{{- define "skyras.agentStorage" -}}
{{- $s3 := .storage.s3 | default dict }}
{{- $persistence := .storage.persistence | default dict }}
{{- if $s3.bucket }}
env:
  - name: SKYRAS_S3_BUCKET
    value: {{ $s3.bucket | quote }}
  {{- with $s3.endpointUrl }}
  - name: SKYRAS_S3_ENDPOINT_URL
    value: {{ . | quote }}
  {{- end }}
  {{- with $s3.region }}
  - name: SKYRAS_S3_REGION
    value: {{ . | quote }}
  {{- end }}
  {{- if or $s3.existingSecret $s3.accessKeyId }}
  {{- $secret := include "skyras.agentStorage.s3SecretName" . }}
  - name: SKYRAS_S3_ACCESS_KEY_ID
    valueFrom:
      secretKeyRef: {name: {{ $secret }}, key: access-key-id}
  - name: SKYRAS_S3_SECRET_ACCESS_KEY
    valueFrom:
      secretKeyRef: {name: {{ $secret }}, key: secret-access-key}
  {{- end }}
{{- else }}
env:
  - name: SKYRAS_DATA_DIR
    value: {{ .storage.mountPath | quote }}
volumes:
  - name: files
    {{- if $persistence.enabled }}
    persistentVolumeClaim:
      claimName: {{ include "skyras.agentStorage.claimName" . }}
    {{- else }}
    emptyDir: {}
    {{- end }}
volumeMounts:
  - name: files
    mountPath: {{ .storage.mountPath | quote }}
{{- if and $persistence.enabled (ne $persistence.accessMode "ReadWriteMany") }}
strategy:
  type: Recreate
{{- end }}
{{- end }}
{{- end }}

{{/* The claim of an agent's files: storage.persistence.existingClaim, or "<fullname>-<name>-files". */}}
{{- define "skyras.agentStorage.claimName" -}}
{{- .storage.persistence.existingClaim | default (include "skyras.componentName" (dict "ctx" .ctx "component" (printf "%s-files" .name))) -}}
{{- end }}

{{/* The Secret of an agent's S3 keys (access-key-id, secret-access-key): storage.s3.existingSecret, or "<fullname>-<name>-s3". */}}
{{- define "skyras.agentStorage.s3SecretName" -}}
{{- .storage.s3.existingSecret | default (include "skyras.componentName" (dict "ctx" .ctx "component" (printf "%s-s3" .name))) -}}
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
{{- if and $agent.enabled $agent.storage }}
{{- $errors = concat $errors (include "skyras.validateAgentStorage" (dict "ctx" $ "name" $name "agent" $agent) | fromYamlArray) }}
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

{{/*
What is wrong with agents.<name>.storage, as a YAML list of messages. Replicas
beyond one need storage they share (S3, or a ReadWriteMany claim): otherwise a
download can reach the pod that lacks the file.
*/}}
{{- define "skyras.validateAgentStorage" -}}
{{- $p := printf "agents.%s" .name }}
{{- $s3 := .agent.storage.s3 | default dict }}
{{- $persistence := .agent.storage.persistence | default dict }}
{{- $spec := include "skyras.agentSpec" . | fromYaml }}
{{- $autoscaling := $spec.autoscaling | default dict }}
{{- $replicas := int ($spec.replicas | default 1) }}
{{- $max := int ($autoscaling.maxReplicas | default 5) }}
{{- $errors := list }}
{{- $shared := or $s3.bucket (and $persistence.enabled (eq $persistence.accessMode "ReadWriteMany")) }}
{{- if and (not $shared) (or (gt $replicas 1) (and $autoscaling.enabled (gt $max 1))) }}
{{- $many := ternary (printf "autoscaling up to %d replicas" $max) (printf "%d replicas" $replicas) (and $autoscaling.enabled (gt $max 1)) }}
{{- $errors = append $errors (printf "%s: %s would each keep their own files (%s): set %s.storage.persistence.accessMode=ReadWriteMany (with a StorageClass that offers it) or %s.storage.s3.bucket, or run one replica (%s.replicas=1 and %s.autoscaling.maxReplicas=1)" $p $many (ternary (printf "a %s claim" $persistence.accessMode) "an emptyDir" (and $persistence.enabled true)) $p $p $p $p) }}
{{- end }}
{{- if and (not $s3.bucket) (or $s3.endpointUrl $s3.region $s3.accessKeyId $s3.secretAccessKey $s3.existingSecret) }}
{{- $errors = append $errors (printf "%s.storage.s3: name the bucket (%s.storage.s3.bucket), or clear the other s3 values" $p $p) }}
{{- end }}
{{- if and $s3.existingSecret (or $s3.accessKeyId $s3.secretAccessKey) }}
{{- $errors = append $errors (printf "%s.storage.s3: give the keys in existingSecret or as accessKeyId/secretAccessKey, not both" $p) }}
{{- end }}
{{- if and (not $s3.existingSecret) (ne (not $s3.accessKeyId) (not $s3.secretAccessKey)) }}
{{- $errors = append $errors (printf "%s.storage.s3: accessKeyId and secretAccessKey go together" $p) }}
{{- end }}
{{- toYaml $errors }}
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

{{/* The egress rule to the API server (outside the pod network: by address, or anywhere on its ports). */}}
{{- define "skyras.networkPolicy.apiServerEgress" -}}
- ports:
    {{- range .Values.operator.apiServer.ports }}
    - port: {{ . }}
    {{- end }}
  {{- with .Values.operator.apiServer.cidrs }}
  to:
    {{- range . }}
    - ipBlock:
        cidr: {{ . }}
    {{- end }}
  {{- end }}
{{- end }}
