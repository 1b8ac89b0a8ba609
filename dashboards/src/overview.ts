// "Greeter overview": alerts, throughput, latency, autoscaling signals and replicas, translator
// and Temporal request and server health on one screen — the dashboard to watch while load runs.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboard, failuresOrZero, quantile, TQ } from './panels';
import { backlogQuery, slotUtilizationQuery } from '@greeter/scripts/devstack';

const RATE = '[$__rate_interval]';
const TRANSLATOR = 'service="translator", route=~"/get-spanish-.*"';
const translatorCount = (extra = '') => `http_server_request_duration_seconds_count{${TRANSLATOR}${extra}}`;

/**
 * Worker processes polling the queue, from the Core gauge every worker reports once per
 * worker type. Locally (no kube-state-metrics) it is the replica count; in a cluster it
 * shows pods that really poll, next to what the Deployment reports.
 */
const WORKERS_POLLING = `count(temporal_worker_task_slots_available{${TQ}, worker_type="ActivityWorker"})`;

export function overview(): dashboard.Dashboard {
  return buildDashboard({
    uid: 'greeter-overview',
    title: 'Greeter overview',
    description: 'GreetSomeone throughput and latency, worker autoscaling signal and replicas, translator and Temporal request health.',
    rows: [
      {
        title: 'Alerts',
        panels: [
          {
            title: 'Alerts pending and firing',
            description:
              "greeter's alerts (charts/greeter/alerts/greeter.rules.yaml) by name and state, from Prometheus' ALERTS series; the flat 0 line means none is active.",
            unit: 'short',
            width: 24,
            min: 0,
            stack: true,
            queries: [{ expr: 'count by (alertname, alertstate) (ALERTS) or on() vector(0)', legend: '{{alertname}} {{alertstate}}' }],
          },
        ],
      },
      {
        title: 'Throughput',
        panels: [
          {
            title: 'Greetings per second by outcome',
            description:
              'POST /greetings answered by the starter, by outcome (completed, failed, timeout, unavailable, conflict, rejected = invalid input). Source: starter greeter_greetings_total.',
            unit: 'reqps',
            width: 8,
            queries: [{ expr: `sum by (outcome) (rate(greeter_greetings_total${RATE}))`, legend: '{{outcome}}' }],
          },
          {
            title: 'Workflows completed and failed per second',
            description:
              'Workflow executions the workers finished, from Temporal Core (temporal_workflow_completed / temporal_workflow_failed). Failed shows 0 until the first failure creates the series.',
            unit: 'ops',
            width: 8,
            queries: [
              { expr: `sum by (workflow_type) (rate(temporal_workflow_completed{${TQ}}${RATE}))`, legend: 'completed {{workflow_type}}' },
              {
                expr: failuresOrZero(
                  `sum by (workflow_type) (rate(temporal_workflow_failed{${TQ}}${RATE}))`,
                  `sum by (workflow_type) (rate(temporal_workflow_completed{${TQ}}${RATE}))`,
                ),
                legend: 'failed {{workflow_type}}',
              },
            ],
          },
          {
            title: 'Throughput against worker replicas',
            description:
              'Completed workflows per second (left axis) with the number of worker replicas (right axis): while workers are the bottleneck, throughput rises with replicas. Replicas come from kube-state-metrics in a cluster and from the count of polling workers locally.',
            unit: 'ops',
            width: 8,
            rightAxis: { legend: 'worker replicas', unit: 'short' },
            queries: [
              { expr: `sum(rate(temporal_workflow_completed{${TQ}}${RATE}))`, legend: 'completed workflows/s' },
              {
                expr: `max(kube_deployment_status_replicas{deployment="greeter-worker"}) or ${WORKERS_POLLING}`,
                legend: 'worker replicas',
              },
            ],
          },
        ],
      },
      {
        title: 'Latency',
        panels: [
          {
            title: 'End-to-end greeting latency',
            description:
              "Time from starting GreetSomeone to its result as the starter sees it (p50/p95/p99 of greeter_workflow_duration_seconds, all outcomes), and p95 of the workers' workflow end-to-end latency (temporal_workflow_endtoend_latency, ms converted to s). Exemplar dots link to the trace in Jaeger.",
            unit: 's',
            queries: [
              { expr: quantile(0.5, 'greeter_workflow_duration_seconds_bucket', ''), legend: 'p50 (starter)' },
              { expr: quantile(0.95, 'greeter_workflow_duration_seconds_bucket', ''), legend: 'p95 (starter)' },
              { expr: quantile(0.99, 'greeter_workflow_duration_seconds_bucket', ''), legend: 'p99 (starter)', exemplar: true },
              { expr: `${quantile(0.95, 'temporal_workflow_endtoend_latency_bucket', TQ)} / 1000`, legend: 'p95 (worker, Temporal Core)' },
            ],
          },
          {
            title: 'Activity schedule-to-start latency (scaling signal)',
            description:
              'How long activity tasks wait in the task queue before a worker picks them up (temporal_activity_schedule_to_start_latency). Rising values mean the workers lack free slots or pollers: the signal to add workers.',
            unit: 'ms',
            queries: [
              { expr: quantile(0.5, 'temporal_activity_schedule_to_start_latency_bucket', TQ), legend: 'p50' },
              { expr: quantile(0.95, 'temporal_activity_schedule_to_start_latency_bucket', TQ), legend: 'p95' },
            ],
          },
        ],
      },
      {
        title: 'Workers and autoscaling',
        panels: [
          {
            title: 'Worker slot utilization (HPA signal)',
            description:
              'Share of task slots in use, busiest worker type (k8s/queries/slot-utilization.promql, served to the HPA by prometheus-adapter as greeter_worker_slot_utilization). The dashed line is the HPA target 0.7.',
            unit: 'percentunit',
            min: 0,
            max: 1,
            threshold: { value: 0.7, color: 'orange' },
            queries: [{ expr: slotUtilizationQuery({ dashboardVariables: true }), legend: 'slot utilization' }],
          },
          {
            title: 'Task-queue backlog (HPA signal)',
            description:
              'Tasks waiting in the queue as the Temporal server counts them (k8s/queries/task-queue-backlog.promql, served to the HPA as greeter_task_queue_backlog, target 10 per worker; the HPA follows the larger of this and slot utilization). The server recomputes the count about once a minute, so it moves in steps.',
            unit: 'short',
            min: 0,
            threshold: { value: 10, color: 'orange' },
            queries: [
              { expr: backlogQuery({ dashboardVariables: true }), legend: 'waiting tasks' },
              { expr: `(${backlogQuery({ dashboardVariables: true })}) / ${WORKERS_POLLING}`, legend: 'per polling worker' },
            ],
          },
          {
            title: 'Worker replicas',
            description:
              'Replicas of Deployment greeter-worker from kube-state-metrics (kube_deployment_status_replicas); where that series does not exist (local stack) the count of workers polling the task queue stands in. "Workers polling" counts processes that report Temporal Core slots for this queue.',
            unit: 'short',
            min: 0,
            queries: [
              { expr: `max(kube_deployment_status_replicas{deployment="greeter-worker"}) or ${WORKERS_POLLING}`, legend: 'replicas' },
              { expr: WORKERS_POLLING, legend: 'workers polling $task_queue' },
            ],
          },
        ],
      },
      {
        title: 'Translator',
        panels: [
          {
            title: 'Translator requests per second',
            description:
              'Translation requests served by the translator, by route and HTTP status (http_server_request_duration_seconds_count).',
            unit: 'reqps',
            width: 8,
            queries: [{ expr: `sum by (route, status_code) (rate(${translatorCount()}${RATE}))`, legend: '{{route}} {{status_code}}' }],
          },
          {
            title: 'Translator error ratio',
            description:
              'Share of translation requests answered 5xx (server errors, retried by the activity) and 4xx (rejected input, not retried). TRANSLATOR_FAILURE_RATE injects 503s.',
            unit: 'percentunit',
            width: 8,
            min: 0,
            queries: [
              {
                expr: `(${failuresOrZero(`sum(rate(${translatorCount(', status_code=~"5.."')}${RATE}))`, `sum(rate(${translatorCount()}${RATE}))`)}) / sum(rate(${translatorCount()}${RATE}))`,
                legend: '5xx',
              },
              {
                expr: `(${failuresOrZero(`sum(rate(${translatorCount(', status_code=~"4.."')}${RATE}))`, `sum(rate(${translatorCount()}${RATE}))`)}) / sum(rate(${translatorCount()}${RATE}))`,
                legend: '4xx',
              },
            ],
          },
          {
            title: 'Translator request duration',
            description:
              'p50/p95/p99 of translation request duration (http_server_request_duration_seconds). Exemplar dots link to the trace in Jaeger.',
            unit: 's',
            width: 8,
            queries: [
              { expr: quantile(0.5, 'http_server_request_duration_seconds_bucket', TRANSLATOR), legend: 'p50' },
              { expr: quantile(0.95, 'http_server_request_duration_seconds_bucket', TRANSLATOR), legend: 'p95' },
              { expr: quantile(0.99, 'http_server_request_duration_seconds_bucket', TRANSLATOR), legend: 'p99', exemplar: true },
            ],
          },
        ],
      },
      {
        title: 'Temporal requests (workers)',
        panels: [
          {
            title: 'Temporal requests per second by operation',
            description:
              'gRPC requests the workers make to Temporal, by operation (temporal_request; long polls are in temporal_long_request on the worker internals dashboard).',
            unit: 'reqps',
            queries: [{ expr: `sum by (operation) (rate(temporal_request{namespace="$namespace"}${RATE}))`, legend: '{{operation}}' }],
          },
          {
            title: 'Temporal request failures per second',
            description:
              'Failed gRPC requests from the workers to Temporal, by operation (temporal_request_failure and temporal_long_request_failure). 0 while no failure has happened yet (Core creates the series at the first one).',
            unit: 'reqps',
            queries: [
              {
                expr: failuresOrZero(
                  `sum by (operation) (rate(temporal_request_failure{namespace="$namespace"}${RATE}))`,
                  `sum by (operation) (rate(temporal_request{namespace="$namespace"}${RATE}))`,
                ),
                legend: '{{operation}}',
              },
              {
                expr: failuresOrZero(
                  `sum by (operation) (rate(temporal_long_request_failure{${TQ}}${RATE}))`,
                  `sum by (operation) (rate(temporal_long_request{${TQ}}${RATE}))`,
                ),
                legend: 'long poll {{operation}}',
              },
            ],
          },
        ],
      },
      {
        title: 'Temporal server (dev server / self-hosted; empty on Temporal Cloud)',
        panels: [
          {
            title: 'Sync match rate',
            description:
              'Share of tasks handed straight to a waiting poller instead of being written to the backlog first (poll_success_sync / poll_success, matching service). Near 1 while workers keep up; falling means tasks queue up (Temporal suggests alerting below 0.95).',
            unit: 'percentunit',
            width: 8,
            min: 0,
            max: 1,
            queries: [
              {
                expr: `sum by (task_type) (rate(poll_success_sync{namespace="$namespace", taskqueue="$server_task_queue"}${RATE})) / sum by (task_type) (rate(poll_success{namespace="$namespace", taskqueue="$server_task_queue"}${RATE}))`,
                legend: '{{task_type}}',
              },
            ],
          },
          {
            title: 'Temporal actions per second',
            description:
              'Billable actions the server records for the namespace (workflow started, activity scheduled, ...), by type (server metric action): what the same load would cost on Temporal Cloud.',
            unit: 'ops',
            width: 8,
            queries: [{ expr: `sum by (action_type) (rate(action{namespace="$namespace"}${RATE}))`, legend: '{{action_type}}' }],
          },
          {
            title: 'Schedule-to-start p95 per task queue',
            description:
              "How long tasks wait for a worker, per task queue and task kind (Temporal Core histograms, ms): the regular queue and each worker's sticky queue. Rising here before slots fill up means pollers, not slots, are short.",
            unit: 'ms',
            width: 8,
            queries: [
              {
                expr: quantile(0.95, 'temporal_workflow_task_schedule_to_start_latency_bucket', 'namespace="$namespace"', ['task_queue']),
                legend: 'workflow {{task_queue}}',
              },
              {
                expr: quantile(0.95, 'temporal_activity_schedule_to_start_latency_bucket', 'namespace="$namespace"', ['task_queue']),
                legend: 'activity {{task_queue}}',
              },
            ],
          },
          {
            title: 'Server requests per second (frontend)',
            description: 'Requests the Temporal frontend served for the namespace, by operation (server metric service_requests).',
            unit: 'reqps',
            width: 8,
            queries: [
              {
                expr: `sum by (operation) (rate(service_requests{service_name="frontend", namespace="$namespace"}${RATE}))`,
                legend: '{{operation}}',
              },
            ],
          },
          {
            title: 'Server latency p95 without long polls',
            description:
              'p95 of request latency per Temporal service (frontend, history, matching), long polls (Poll*) excluded since they wait by design (service_latency).',
            unit: 's',
            width: 8,
            queries: [
              {
                expr: quantile(0.95, 'service_latency_bucket', 'namespace="$namespace", operation!~"Poll.*"', ['service_name']),
                legend: '{{service_name}}',
              },
            ],
          },
          {
            title: 'State transitions per second and persistence latency',
            description:
              'Workflow state transitions per second (about 11 per GreetSomeone) and p95 persistence latency (the dev server writes through one SQLite connection, so this saturates first).',
            unit: 'ops',
            width: 8,
            rightAxis: { legend: 'persistence p95', unit: 's' },
            queries: [
              { expr: `sum(rate(state_transition_count_sum{namespace="$namespace"}${RATE}))`, legend: 'state transitions/s' },
              { expr: quantile(0.95, 'persistence_latency_bucket', 'namespace="$namespace"'), legend: 'persistence p95' },
            ],
          },
        ],
      },
    ],
  });
}
