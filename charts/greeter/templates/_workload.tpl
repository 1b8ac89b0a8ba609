{{/*
The one Deployment shape every greeter service uses, so hardening, probes, labels and
OTEL wiring cannot drift between services. Parameters (dict):
  root       the chart context ($)
  component  translator | worker | starter
  c          the component's values
  env        the service's own env entries (YAML list, rendered by the caller)
  ports      list of (dict "name" "port")
  temporal   true when the service talks to Temporal (TLS volumes, checksum)
  autoscaled true when an HPA/ScaledObject owns the replica count
  terminationGracePeriodSeconds
*/}}
{{- define "greeter.deployment" -}}
{{- $root := .root -}}
{{- $ctx := dict "root" $root "component" .component -}}
{{- $c := .c -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "greeter.componentName" $ctx }}
  labels:
    {{- include "greeter.labels" $ctx | nindent 4 }}
spec:
  {{- if not .autoscaled }}
  replicas: {{ $c.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "greeter.selectorLabels" $ctx | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "greeter.podLabels" $ctx | nindent 8 }}
      annotations:
        checksum/config: {{ .env | sha256sum }}
        {{- /* The first port is http: /metrics of every service (the worker's prom-client; its
               Temporal Core port needs port-name discovery, see k8s/local/prometheus.yaml). */}}
        {{- with include "greeter.scrapeAnnotations" (dict "root" $root "port" (index .ports 0).port) }}
        {{- . | nindent 8 }}
        {{- end }}
        {{- if .temporal }}
        checksum/temporal: {{ include "greeter.temporalChecksum" $root }}
        {{- end }}
        {{- with $c.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      # Kubernetes would otherwise inject <SERVICE>_PORT variables that can clash with ours.
      enableServiceLinks: false
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: {{ .terminationGracePeriodSeconds }}
      securityContext:
        {{- include "greeter.podSecurityContext" $root | nindent 8 }}
      {{- with $root.Values.global.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      {{- with $c.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "greeter.selectorLabels" $ctx | nindent 14 }}
      containers:
        - name: {{ .component }}
          image: {{ include "greeter.image" (dict "root" $root "image" $c.image) | quote }}
          imagePullPolicy: {{ $c.image.pullPolicy | default $root.Values.global.imagePullPolicy }}
          ports:
            {{- range .ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
            {{- end }}
          env:
            {{- include "greeter.commonEnv" (dict "root" $root "c" $c) | nindent 12 }}
            {{- .env | nindent 12 }}
            {{- include "greeter.otelEnv" $ctx | nindent 12 }}
          startupProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 2
            failureThreshold: 30
          livenessProbe:
            httpGet:
              path: /healthz
              port: http
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet:
              path: /readyz
              port: http
            periodSeconds: 5
            timeoutSeconds: 2
            failureThreshold: 2
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          securityContext:
            {{- include "greeter.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if .temporal }}
            {{- include "greeter.temporalVolumeMounts" $root | nindent 12 }}
            {{- end }}
      volumes:
        {{- include "greeter.tmpVolume" $root | nindent 8 }}
        {{- if .temporal }}
        {{- include "greeter.temporalVolumes" $root | nindent 8 }}
        {{- end }}
{{- end -}}

{{/* A CPU-based autoscaling/v2 HPA for translator/starter. (dict "root" $ "component" "starter" "c" .Values.starter) */}}
{{- define "greeter.cpuHpa" -}}
{{- $ctx := dict "root" .root "component" .component -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "greeter.componentName" $ctx }}
  labels:
    {{- include "greeter.labels" $ctx | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "greeter.componentName" $ctx }}
  minReplicas: {{ .c.autoscaling.minReplicas }}
  maxReplicas: {{ .c.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .c.autoscaling.targetCPUUtilizationPercentage }}
{{- end -}}

{{/* A ClusterIP/NodePort Service. (dict "root" $ "component" "starter" "type" "ClusterIP" "ports" (list (dict "name" "http" "port" 8080))) */}}
{{- define "greeter.service" -}}
{{- $ctx := dict "root" .root "component" .component -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "greeter.componentName" $ctx }}
  labels:
    {{- include "greeter.labels" $ctx | nindent 4 }}
spec:
  type: {{ .type }}
  selector:
    {{- include "greeter.selectorLabels" $ctx | nindent 4 }}
  ports:
    {{- range .ports }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: TCP
    {{- end }}
{{- end -}}
