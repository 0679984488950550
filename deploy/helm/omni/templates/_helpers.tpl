{{/* The image every workload runs. */}}
{{- define "omni.image" -}}
image: {{ printf "%s:%s" .Values.image.repository .Values.image.tag | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
{{- end }}

{{/* Labels of everything: what kustomize's `labels` gave the overlays. */}}
{{- define "omni.labels" -}}
app.kubernetes.io/part-of: omni
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/* A pod template's: no chart version (a version bump must not restart every pod). */}}
{{- define "omni.podLabels" -}}
app.kubernetes.io/part-of: omni
{{- end }}

{{/* Every database owner: the four services and the console. */}}
{{- define "omni.owners" -}}
{{ list "stock" "orders" "pickup" "returns" "console" | toJson }}
{{- end }}

{{/* A container's locked-down security context (our image runs as uid 10001). */}}
{{- define "omni.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
{{- end }}

{{/* The pod's: non-root, our uid, the default seccomp profile. */}}
{{- define "omni.podSecurity" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
{{- end }}

{{/* A workload's NATS login: its own user, its password from the users' Secret. */}}
{{- define "omni.natsLogin" -}}
- name: OMNI_NATS_USER
  value: {{ .user }}
- name: OMNI_NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ printf "OMNI_NATS_%s_PASSWORD" (upper .user) }}
{{- end }}

{{/* Changes to the shared settings roll the pods that read them. */}}
{{- define "omni.sharedChecksum" -}}
checksum/shared: {{ include (print .Template.BasePath "/shared.yaml") . | sha256sum }}
{{- end }}
