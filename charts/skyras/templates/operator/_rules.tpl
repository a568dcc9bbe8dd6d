{{/* The operator's cluster-scoped rules (manifests/rbac/clusterrole.yaml, framework part). */}}
{{- define "skyras.operator.clusterRules" -}}
# Framework: kopf peering, cluster-wide (only used when peering is on).
- apiGroups: [kopf.dev]
  resources: [clusterkopfpeerings]
  verbs: [list, watch, patch, get]
# Framework: kopf discovers the resources it serves (and notices the CRD coming and going).
- apiGroups: [apiextensions.k8s.io]
  resources: [customresourcedefinitions]
  verbs: [list, watch]
# Framework: kopf scans namespaces for --all-namespaces / --namespace globs.
- apiGroups: [""]
  resources: [namespaces]
  verbs: [list, watch]
{{- end }}

{{/* The operator's namespaced rules (manifests/rbac/clusterrole.yaml application part, role.yaml). */}}
{{- define "skyras.operator.namespacedRules" -}}
# Framework: kopf peering within one namespace.
- apiGroups: [kopf.dev]
  resources: [kopfpeerings]
  verbs: [list, watch, patch, get]
# Framework + Application: handler outcomes and Warning events (InvalidSpec, ChildNotOwned, HubUnreachable).
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create]
# Application: the Agents it reconciles; patch stores kopf's annotations and the finalizer.
- apiGroups: [skyras.io]
  resources: [agents]
  verbs: [list, watch, get, patch]
# Application: the operator alone writes Agent status.
- apiGroups: [skyras.io]
  resources: [agents/status]
  verbs: [get, patch]
# Application: owner references with blockOwnerDeletion need update on the owner's finalizers.
- apiGroups: [skyras.io]
  resources: [agents/finalizers]
  verbs: [update]
# Application: one Deployment per Agent; no delete (garbage collection removes children).
- apiGroups: [apps]
  resources: [deployments]
  verbs: [list, watch, get, create, patch]
# Application: one Service per Agent.
- apiGroups: [""]
  resources: [services]
  verbs: [get, create, patch]
{{- end }}
