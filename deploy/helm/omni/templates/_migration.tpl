{{/* The migration Job of one database owner: `omni-<owner> migrate`, reading nothing but its
database's URL; before a release's servers (Helm: after install, before an upgrade; Argo CD:
PreSync), deleted 10 minutes after it finished so the next release runs it again. */}}
{{- define "omni.migration" -}}
{{- $ := .root }}
{{- $name := printf "omni-%s" .owner }}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ printf "omni-migrate-%s" .owner }}
  labels:
    {{- include "omni.labels" $ | nindent 4 }}
    app.kubernetes.io/name: {{ $name }}
  annotations:
    helm.sh/hook: post-install,pre-upgrade
    helm.sh/hook-delete-policy: before-hook-creation
    argocd.argoproj.io/hook: PreSync
    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
spec:
  backoffLimit: 6
  ttlSecondsAfterFinished: 600
  template:
    metadata:
      labels:
        {{- include "omni.podLabels" $ | nindent 8 }}
        app.kubernetes.io/name: {{ $name }}
        app.kubernetes.io/component: migration
    spec:
      serviceAccountName: {{ $name }}
      automountServiceAccountToken: false
      restartPolicy: OnFailure
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: migrate
          {{- include "omni.image" $ | nindent 10 }}
          command: [{{ $name }}]
          args: ["migrate"]
          envFrom:
            - configMapRef:
                name: omni-shared
          env:
            - name: {{ printf "OMNI_%s_DATABASE_URL" (upper .owner) }}
              valueFrom:
                secretKeyRef: {name: {{ printf "%s-database" $name }}, key: url}
          resources:
            {{- toYaml $.Values.migration.resources | nindent 12 }}
          {{- include "omni.containerSecurity" $ | nindent 10 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 16Mi
{{- end }}
