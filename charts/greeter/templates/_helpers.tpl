{{/* Shared helpers: names, labels, images, hardening, heap size, and the env wiring (OTEL_* and Temporal in one place each). */}}

{{- define "greeter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "greeter.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of a component's objects: greeter-translator, greeter-worker, ... (dict "root" $ "component" "worker") */}}
{{- define "greeter.componentName" -}}
{{- printf "%s-%s" (include "greeter.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: only name, instance, component, so they never change across upgrades. */}}
{{- define "greeter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "greeter.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "greeter.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "greeter.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: {{ .root.Values.partOf }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{/* Pod template labels: the object labels plus global.podLabels. */}}
{{- define "greeter.podLabels" -}}
{{ include "greeter.labels" . }}
{{- with .root.Values.global.podLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Image reference of a greeter service: [registry/]repository:tag[@digest]. (dict "root" $ "image" .Values.worker.image) */}}
{{- define "greeter.image" -}}
{{- $g := .root.Values.global -}}
{{- $repo := .image.repository -}}
{{- if $g.imageRegistry }}{{ $repo = printf "%s/%s" (trimSuffix "/" $g.imageRegistry) $repo }}{{ end -}}
{{- $tag := .image.tag | default $g.imageTag | default .root.Chart.AppVersion -}}
{{- if .image.digest -}}
{{- printf "%s:%s@%s" $repo $tag .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{/* A third-party image pinned by tag (and digest when given). */}}
{{- define "greeter.externalImage" -}}
{{- if .digest -}}
{{- printf "%s:%s@%s" .repository .tag .digest -}}
{{- else -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}
{{- end -}}

{{/* Hardened pod securityContext (same for every pod of the chart). */}}
{{- define "greeter.podSecurityContext" -}}
{{- include "greeter.podSecurityContextAs" (dict "user" .Values.global.runAsUser "group" .Values.global.runAsGroup) -}}
{{- end -}}

{{/* The same for an image with its own user: (dict "user" 1000 "group" 1000). */}}
{{- define "greeter.podSecurityContextAs" -}}
runAsNonRoot: true
runAsUser: {{ .user }}
runAsGroup: {{ .group }}
fsGroup: {{ .group }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Hardened container securityContext: read-only root (an emptyDir serves /tmp), no privileges, no capabilities. */}}
{{- define "greeter.containerSecurityContext" -}}
{{- include "greeter.containerSecurityContextAs" (dict "user" .Values.global.runAsUser "group" .Values.global.runAsGroup) -}}
{{- end -}}

{{- define "greeter.containerSecurityContextAs" -}}
runAsNonRoot: true
runAsUser: {{ .user }}
runAsGroup: {{ .group }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Memory quantity -> MiB (integer). Accepts Ki, Mi, Gi, Ti, K, M, G, T, k and plain bytes,
so the heap follows whatever limit is set.
*/}}
{{- define "greeter.memoryMiB" -}}
{{- $q := toString . -}}
{{- $units := dict "Ki" 0.0009765625 "Mi" 1.0 "Gi" 1024.0 "Ti" 1048576.0 "k" 0.00095367431640625 "K" 0.00095367431640625 "M" 0.95367431640625 "G" 953.67431640625 "T" 953674.31640625 -}}
{{- $mib := 0.0 -}}
{{- $matched := false -}}
{{- range $suffix, $factor := $units -}}
{{- if and (not $matched) (hasSuffix $suffix $q) -}}
{{- $mib = mulf (float64 (trimSuffix $suffix $q)) $factor -}}
{{- $matched = true -}}
{{- end -}}
{{- end -}}
{{- if not $matched -}}
{{- if not (regexMatch "^[0-9]+$" $q) -}}{{- fail (printf "memory limit %q: use a plain number of bytes or a Ki/Mi/Gi/Ti/k/M/G/T suffix" $q) -}}{{- end -}}
{{- $mib = divf (float64 $q) 1048576.0 -}}
{{- end -}}
{{- floor $mib | int -}}
{{- end -}}

{{/* NODE_OPTIONS heap size: heapPercentOfMemoryLimit of the container's memory limit, in MiB. (dict "root" $ "resources" .Values.worker.resources) */}}
{{- define "greeter.heapMiB" -}}
{{- $limit := required "resources.limits.memory is required (the Node heap is sized from it)" .resources.limits.memory -}}
{{- $mib := include "greeter.memoryMiB" $limit | int -}}
{{- div (mul $mib (int .root.Values.global.heapPercentOfMemoryLimit)) 100 -}}
{{- end -}}

{{/* Variables every service reads through readCommon, plus NODE_OPTIONS (the heap size, then the component's nodeOptions if it has any). (dict "root" $ "c" .Values.translator) */}}
{{- define "greeter.commonEnv" -}}
- name: HOST
  value: "0.0.0.0"
- name: PORT
  value: {{ .c.port | quote }}
- name: LOG_LEVEL
  value: {{ .root.Values.global.logLevel | quote }}
- name: SHUTDOWN_GRACE_MS
  value: {{ .c.shutdownGraceMs | quote }}
- name: NODE_OPTIONS
  value: {{ trim (printf "--max-old-space-size=%s %s" (include "greeter.heapMiB" (dict "root" .root "resources" .c.resources)) (.c.nodeOptions | default "")) | quote }}
{{- end -}}

{{/* Frontend address for the configured Temporal mode. */}}
{{- define "greeter.temporalAddress" -}}
{{- $t := .Values.temporal -}}
{{- if eq $t.mode "dev" -}}
{{- printf "%s:7233" (include "greeter.componentName" (dict "root" . "component" "temporal")) -}}
{{- else if eq $t.mode "external" -}}
{{- required "temporal.external.address is required when temporal.mode is external" $t.external.address -}}
{{- else -}}
{{- required "temporal.cloud.address is required when temporal.mode is cloud" $t.cloud.address -}}
{{- end -}}
{{- end -}}

{{/* Where mounted Temporal TLS files live in the container. */}}
{{- define "greeter.temporalTlsDir" -}}/var/run/secrets/greeter/temporal-tls{{- end -}}
{{- define "greeter.temporalCaDir" -}}/var/run/secrets/greeter/temporal-ca{{- end -}}

{{/* The standard TEMPORAL_* client variables (as the temporal CLI and every SDK read them) for the worker and the starter: one definition for both. Secret values never appear in values. */}}
{{- define "greeter.temporalEnv" -}}
{{- $t := .Values.temporal -}}
- name: TEMPORAL_ADDRESS
  value: {{ include "greeter.temporalAddress" . | quote }}
- name: TEMPORAL_NAMESPACE
  value: {{ $t.namespace | quote }}
- name: TEMPORAL_TASK_QUEUE
  value: {{ $t.taskQueue | quote }}
{{- if eq $t.mode "external" }}
- name: TEMPORAL_TLS
  value: {{ $t.external.tls | quote }}
{{- if $t.external.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ $t.external.serverName | quote }}
{{- end }}
{{- if $t.external.caSecret.name }}
- name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
  value: {{ printf "%s/%s" (include "greeter.temporalCaDir" .) $t.external.caSecret.key | quote }}
{{- end }}
{{- else if eq $t.mode "cloud" }}
- name: TEMPORAL_TLS
  value: "true"
{{- if $t.cloud.serverName }}
- name: TEMPORAL_TLS_SERVER_NAME
  value: {{ $t.cloud.serverName | quote }}
{{- end }}
{{- if eq $t.cloud.auth "apiKey" }}
- name: TEMPORAL_API_KEY
  valueFrom:
    secretKeyRef:
      name: {{ required "temporal.cloud.apiKeySecret.name is required for auth apiKey" $t.cloud.apiKeySecret.name | quote }}
      key: {{ $t.cloud.apiKeySecret.key | quote }}
{{- else }}
{{- $_ := required "temporal.cloud.mtlsSecret.name is required for auth mtls" $t.cloud.mtlsSecret.name }}
- name: TEMPORAL_TLS_CLIENT_CERT_PATH
  value: {{ printf "%s/%s" (include "greeter.temporalTlsDir" .) $t.cloud.mtlsSecret.certKey | quote }}
- name: TEMPORAL_TLS_CLIENT_KEY_PATH
  value: {{ printf "%s/%s" (include "greeter.temporalTlsDir" .) $t.cloud.mtlsSecret.keyKey | quote }}
{{- if $t.cloud.mtlsSecret.caKey }}
- name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
  value: {{ printf "%s/%s" (include "greeter.temporalTlsDir" .) $t.cloud.mtlsSecret.caKey | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Volumes for Temporal TLS material (existing Secrets, read-only). */}}
{{- define "greeter.temporalVolumes" -}}
{{- $t := .Values.temporal -}}
{{- if and (eq $t.mode "cloud") (eq $t.cloud.auth "mtls") }}
- name: temporal-tls
  secret:
    secretName: {{ $t.cloud.mtlsSecret.name }}
    defaultMode: 0440
{{- end }}
{{- if and (eq $t.mode "external") $t.external.caSecret.name }}
- name: temporal-ca
  secret:
    secretName: {{ $t.external.caSecret.name }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{- define "greeter.temporalVolumeMounts" -}}
{{- $t := .Values.temporal -}}
{{- if and (eq $t.mode "cloud") (eq $t.cloud.auth "mtls") }}
- name: temporal-tls
  mountPath: {{ include "greeter.temporalTlsDir" . }}
  readOnly: true
{{- end }}
{{- if and (eq $t.mode "external") $t.external.caSecret.name }}
- name: temporal-ca
  mountPath: {{ include "greeter.temporalCaDir" . }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* Rolls pods when the Temporal connection (address, Secret names, mounted files) changes. */}}
{{- define "greeter.temporalChecksum" -}}
{{- toJson .Values.temporal | sha256sum -}}
{{- end -}}

{{/*
OTEL_* for every container, in one place. Resource attributes come last so
they can use the downward-API variables defined before them.
(dict "root" $ "component" "worker")
*/}}
{{- define "greeter.otelEnv" -}}
{{- $o := .root.Values.otel -}}
- name: OTEL_SERVICE_NAME
  value: {{ .component | quote }}
{{- if not $o.enabled }}
- name: OTEL_SDK_DISABLED
  value: "true"
{{- end }}
{{- if $o.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $o.endpoint | quote }}
{{- end }}
{{- if $o.tracesSampler }}
- name: OTEL_TRACES_SAMPLER
  value: {{ $o.tracesSampler | quote }}
{{- end }}
{{- if $o.tracesSamplerArg }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $o.tracesSamplerArg | quote }}
{{- end }}
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: K8S_NAMESPACE_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: K8S_NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
{{- $attrs := list (printf "service.namespace=%s" .root.Values.partOf) (printf "service.instance.id=$(K8S_POD_NAME)") (printf "k8s.deployment.name=%s" (include "greeter.componentName" .)) -}}
{{- range $k, $v := $o.resourceAttributes }}
{{- $attrs = append $attrs (printf "%s=%v" $k $v) -}}
{{- end }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ join "," $attrs | quote }}
{{- end -}}

{{/* Volume for /tmp: the root filesystem is read-only. */}}
{{- define "greeter.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}

{{/* Non-empty when the cluster serves monitoring.coreos.com/v1 <kind> (or monitoring.assumeCRDs). (dict "root" $ "kind" "ServiceMonitor") */}}
{{- define "greeter.monitorApi" -}}
{{- if or .root.Values.monitoring.assumeCRDs (.root.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" .kind)) -}}true{{- end -}}
{{- end -}}

{{/* prometheus.io/* pod annotations for Prometheus setups without the Operator. (dict "root" $ "port" 9999) */}}
{{- define "greeter.scrapeAnnotations" -}}
{{- if .root.Values.monitoring.scrapeAnnotations -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end -}}
{{- end -}}
