// "Greeter worker internals": what a worker does with its slots, pollers, sticky cache and
// Node.js process — the dashboard for tuning WORKER_MAX_CONCURRENT_* and pod resources.
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { buildDashboard, failuresOrZero, quantile, TQ } from './panels';

const RATE = '[$__rate_interval]';
/** prom-client series of the worker processes (label service from the shared metrics module). */
const WORKER = 'service="worker"';

export function workerInternals(): dashboard.Dashboard {
  return buildDashboard({
    uid: 'greeter-worker-internals',
    title: 'Greeter worker internals',
    description: 'Temporal worker slots, pollers, sticky cache, task latencies and the Node.js process of every worker.',
    rows: [
      {
        title: 'Task slots and pollers',
        panels: [
          {
            title: 'Task slots used by worker type',
            description: 'Slots executing a task right now, summed over workers, by worker type (temporal_worker_task_slots_used).',
            unit: 'short',
            width: 8,
            min: 0,
            queries: [{ expr: `sum by (worker_type) (temporal_worker_task_slots_used{${TQ}})`, legend: '{{worker_type}}' }],
          },
          {
            title: 'Task slots available by worker type',
            description:
              'Free slots summed over workers (temporal_worker_task_slots_available) and the configured maximum the workers report (greeter_worker_slots, from WORKER_MAX_CONCURRENT_*).',
            unit: 'short',
            width: 8,
            min: 0,
            queries: [
              { expr: `sum by (worker_type) (temporal_worker_task_slots_available{${TQ}})`, legend: 'available {{worker_type}}' },
              { expr: `sum by (worker_type) (greeter_worker_slots{task_queue="$task_queue"})`, legend: 'configured {{worker_type}}' },
            ],
          },
          {
            title: 'Pollers by type',
            description: 'Long-poll requests in flight per poller type, summed over workers (temporal_num_pollers).',
            unit: 'short',
            width: 8,
            min: 0,
            queries: [{ expr: `sum by (poller_type) (temporal_num_pollers{${TQ}})`, legend: '{{poller_type}}' }],
          },
        ],
      },
      {
        title: 'Polls and sticky cache',
        panels: [
          {
            title: 'Long polls per second',
            description:
              'Task-queue long polls completed per second by operation (temporal_long_request); an empty poll returns after about 60 s.',
            unit: 'reqps',
            width: 8,
            queries: [{ expr: `sum by (operation) (rate(temporal_long_request{${TQ}}${RATE}))`, legend: '{{operation}}' }],
          },
          {
            title: 'Sticky cache size',
            description: 'Workflow executions cached per worker (temporal_sticky_cache_size, bounded by maxCachedWorkflows).',
            unit: 'short',
            width: 8,
            min: 0,
            queries: [{ expr: `sum by (instance) (temporal_sticky_cache_size{${TQ}})`, legend: '{{instance}}' }],
          },
          {
            title: 'Sticky cache hits and misses per second',
            description:
              'Workflow tasks served from the sticky cache (hit) or needing a full history replay (miss); misses show 0 until Core creates the series at the first one.',
            unit: 'ops',
            width: 8,
            queries: [
              { expr: `sum(rate(temporal_sticky_cache_hit{${TQ}}${RATE}))`, legend: 'hit' },
              {
                expr: failuresOrZero(
                  `sum(rate(temporal_sticky_cache_miss{${TQ}}${RATE}))`,
                  `sum(rate(temporal_sticky_cache_hit{${TQ}}${RATE}))`,
                ),
                legend: 'miss',
              },
            ],
          },
        ],
      },
      {
        title: 'Workflow tasks',
        panels: [
          {
            title: 'Workflow task schedule-to-start latency',
            description:
              'Time workflow tasks wait in the task queue before a worker picks them up (temporal_workflow_task_schedule_to_start_latency).',
            unit: 'ms',
            queries: [
              { expr: quantile(0.5, 'temporal_workflow_task_schedule_to_start_latency_bucket', TQ), legend: 'p50' },
              { expr: quantile(0.95, 'temporal_workflow_task_schedule_to_start_latency_bucket', TQ), legend: 'p95' },
            ],
          },
          {
            title: 'Workflow task execution latency',
            description: 'Time the worker spends running workflow code for one task (temporal_workflow_task_execution_latency).',
            unit: 'ms',
            queries: [
              { expr: quantile(0.5, 'temporal_workflow_task_execution_latency_bucket', TQ), legend: 'p50' },
              { expr: quantile(0.95, 'temporal_workflow_task_execution_latency_bucket', TQ), legend: 'p95' },
            ],
          },
        ],
      },
      {
        title: 'Activities',
        panels: [
          {
            title: 'Activity execution latency by activity',
            description:
              'Time one activity attempt runs, including the translator call (temporal_activity_execution_latency), by activity type.',
            unit: 'ms',
            width: 8,
            queries: [
              { expr: quantile(0.5, 'temporal_activity_execution_latency_bucket', TQ, ['activity_type']), legend: 'p50 {{activity_type}}' },
              {
                expr: quantile(0.95, 'temporal_activity_execution_latency_bucket', TQ, ['activity_type']),
                legend: 'p95 {{activity_type}}',
              },
            ],
          },
          {
            title: 'Activity schedule-to-start latency',
            description:
              'Time activity tasks wait in the queue before a worker starts them (temporal_activity_schedule_to_start_latency); the scaling signal.',
            unit: 'ms',
            width: 8,
            queries: [
              { expr: quantile(0.5, 'temporal_activity_schedule_to_start_latency_bucket', TQ), legend: 'p50' },
              { expr: quantile(0.95, 'temporal_activity_schedule_to_start_latency_bucket', TQ), legend: 'p95' },
            ],
          },
          {
            title: 'Activity tasks and failed attempts per second',
            description:
              'Activity tasks received (temporal_activity_task_received) and attempts that failed (temporal_activity_execution_failed, e.g. a translator 503 that is then retried), by activity type.',
            unit: 'ops',
            width: 8,
            queries: [
              {
                expr: `sum by (activity_type) (rate(temporal_activity_task_received{${TQ}}${RATE}))`,
                legend: 'received {{activity_type}}',
              },
              {
                expr: failuresOrZero(
                  `sum by (activity_type) (rate(temporal_activity_execution_failed{${TQ}}${RATE}))`,
                  `sum by (activity_type) (rate(temporal_activity_task_received{${TQ}}${RATE}))`,
                ),
                legend: 'failed {{activity_type}}',
              },
            ],
          },
        ],
      },
      {
        title: 'Node.js process per worker',
        panels: [
          {
            title: 'CPU per worker',
            description:
              'CPU time per second of each worker process (process_cpu_seconds_total): 100% is one full core. Includes the Rust Core threads.',
            unit: 'percentunit',
            width: 8,
            min: 0,
            queries: [{ expr: `sum by (instance) (rate(process_cpu_seconds_total{${WORKER}}${RATE}))`, legend: '{{instance}}' }],
          },
          {
            title: 'Resident memory per worker',
            description:
              'Resident set size of each worker process (process_resident_memory_bytes): V8 heap plus the Rust Core and native buffers; compare with the pod memory limit.',
            unit: 'bytes',
            width: 8,
            min: 0,
            queries: [{ expr: `sum by (instance) (process_resident_memory_bytes{${WORKER}})`, legend: '{{instance}}' }],
          },
          {
            title: 'Event loop lag per worker',
            description:
              'Event loop delay of each worker (nodejs_eventloop_lag_p50/p99_seconds): a busy loop delays activity heartbeats and task completions.',
            unit: 's',
            width: 8,
            min: 0,
            queries: [
              { expr: `max by (instance) (nodejs_eventloop_lag_p50_seconds{${WORKER}})`, legend: 'p50 {{instance}}' },
              { expr: `max by (instance) (nodejs_eventloop_lag_p99_seconds{${WORKER}})`, legend: 'p99 {{instance}}' },
            ],
          },
          {
            title: 'V8 heap per worker',
            description:
              'V8 heap used and allocated per worker (nodejs_heap_size_used_bytes / nodejs_heap_size_total_bytes); keep the heap limit at ~75-80% of the pod memory limit.',
            unit: 'bytes',
            width: 12,
            min: 0,
            queries: [
              { expr: `sum by (instance) (nodejs_heap_size_used_bytes{${WORKER}})`, legend: 'used {{instance}}' },
              { expr: `sum by (instance) (nodejs_heap_size_total_bytes{${WORKER}})`, legend: 'total {{instance}}' },
            ],
          },
          {
            title: 'Garbage collection time per worker',
            description: 'Share of wall time spent in V8 garbage collection (rate of nodejs_gc_duration_seconds_sum), by GC kind.',
            unit: 'percentunit',
            width: 12,
            min: 0,
            queries: [
              { expr: `sum by (instance, kind) (rate(nodejs_gc_duration_seconds_sum{${WORKER}}${RATE}))`, legend: '{{kind}} {{instance}}' },
            ],
          },
        ],
      },
    ],
  });
}
