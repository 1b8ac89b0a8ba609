// Small vocabulary on top of @grafana/grafana-foundation-sdk so every greeter panel is built
// the same way: Prometheus via the ${datasource} variable, a unit, a description, a legend.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** Every query goes through the dashboard's datasource variable, never a fixed uid. */
export const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** Label matchers for Temporal Core series of the selected namespace and task queue. */
export const TQ = 'namespace="$namespace", task_queue="$task_queue"';

/** Temporal Core histograms are in milliseconds, the services' in seconds. */
export type Unit = 'reqps' | 'ops' | 's' | 'ms' | 'percentunit' | 'short' | 'bytes';

export interface Query {
  expr: string;
  legend: string;
  /** Fetch exemplars (trace_id) for this query: Grafana links each one to its Jaeger trace. */
  exemplar?: boolean;
}

export interface PanelSpec {
  title: string;
  description: string;
  unit: Unit;
  queries: Query[];
  /** Grid width out of 24 (height is always 8). */
  width?: number;
  min?: number;
  max?: number;
  /** A dashed threshold line, e.g. the HPA target on the utilization panel. */
  threshold?: { value: number; color: string };
  /** Series (by legend) drawn on a right-hand axis with their own unit. */
  rightAxis?: { legend: string; unit: Unit };
  stack?: boolean;
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

export function timeseriesPanel(id: number, spec: PanelSpec): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .id(id)
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    // x=0,y=0 lets the dashboard builder place panels left to right, row by row.
    .gridPos({ x: 0, y: 0, w: spec.width ?? 12, h: 8 })
    .lineWidth(1)
    .fillOpacity(spec.stack ? 30 : 10)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom)
        .calcs([]),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  if (spec.stack) panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (spec.threshold) {
    panel
      .thresholds(
        new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
          { value: null, color: 'green' },
          { value: spec.threshold.value, color: spec.threshold.color },
        ]),
      )
      .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed));
  }
  if (spec.rightAxis) {
    panel.overrideByName(spec.rightAxis.legend, [
      { id: 'unit', value: spec.rightAxis.unit },
      { id: 'custom.axisPlacement', value: 'right' },
      { id: 'custom.fillOpacity', value: 0 },
    ]);
  }
  spec.queries.forEach((q, i) => {
    panel.withTarget(
      new prometheus.DataqueryBuilder()
        .refId(String.fromCharCode(65 + i))
        .datasource(DATASOURCE)
        .expr(q.expr)
        .legendFormat(q.legend)
        .range()
        .exemplar(q.exemplar ?? false),
    );
  });
  return panel;
}

/** histogram_quantile over a rate of `_bucket` series, summed by `le` and `by`. */
export function quantile(q: number, bucket: string, matchers: string, by: string[] = []): string {
  const labels = ['le', ...by].join(', ');
  const selector = matchers ? `${bucket}{${matchers}}` : bucket;
  return `histogram_quantile(${q}, sum by (${labels}) (rate(${selector}[$__rate_interval])))`;
}

/**
 * A failure counter that Temporal Core or prom-client only creates at its first
 * increment: `failures or 0 * total`, so the panel shows a real zero (per group) while
 * the total exists, instead of "No data" that looks like a broken scrape.
 */
export function failuresOrZero(failures: string, total: string): string {
  return `${failures} or 0 * ${total}`;
}

/** The variables both dashboards share: datasource, then Temporal namespace and task queue. */
export function commonVariables(): Array<{ build(): dashboard.VariableModel }> {
  // Read from a gauge every polling worker reports, so the lists hold only queues with workers.
  const slots = 'temporal_worker_task_slots_available';
  return [
    new dashboard.DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'),
    new dashboard.QueryVariableBuilder('namespace')
      .label('Temporal namespace')
      .description('Temporal namespace the workers poll (label namespace of the Temporal Core metrics)')
      .datasource(DATASOURCE)
      .query(`label_values(${slots}, namespace)`)
      .definition(`label_values(${slots}, namespace)`)
      .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
      .sort(dashboard.VariableSort.AlphabeticalAsc)
      .current({ text: 'default', value: 'default' }),
    new dashboard.QueryVariableBuilder('task_queue')
      .label('Task queue')
      .description('Task queue the workers poll')
      .datasource(DATASOURCE)
      .query(`label_values(${slots}{namespace="$namespace"}, task_queue)`)
      .definition(`label_values(${slots}{namespace="$namespace"}, task_queue)`)
      .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
      .sort(dashboard.VariableSort.AlphabeticalAsc)
      .current({ text: 'greeting-tasks', value: 'greeting-tasks' }),
    // The Temporal server's own series name the queue `taskqueue`, written with every character
    // but [a-zA-Z0-9_] turned into `_` by its Prometheus reporter (greeting-tasks -> greeting_tasks).
    new dashboard.QueryVariableBuilder('server_task_queue')
      .label('Task queue (server label)')
      .description(
        'The task queue as the Temporal server labels it (taskqueue; - and . become _), for the server panels and the backlog signal',
      )
      .datasource(DATASOURCE)
      .query('label_values(approximate_backlog_count{namespace="$namespace"}, taskqueue)')
      .definition('label_values(approximate_backlog_count{namespace="$namespace"}, taskqueue)')
      .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
      .sort(dashboard.VariableSort.AlphabeticalAsc)
      .current({ text: 'greeting_tasks', value: 'greeting_tasks' }),
  ];
}

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  rows: RowSpec[];
}

export function buildDashboard(spec: DashboardSpec): dashboard.Dashboard {
  const d = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['greeter', 'temporal'])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-30m', to: 'now' })
    .refresh('30s')
    .timezone('browser')
    // One drop-down to the other greeter dashboards, keeping time range and variables.
    .link(
      new dashboard.DashboardLinkBuilder('greeter')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(['greeter'])
        .icon('external link')
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
  // Grafana's built-in annotations (alerts, manual notes); without it Grafana adds it on load
  // and the provisioned JSON would differ from what the UI saves.
  d.annotation(
    new dashboard.AnnotationQueryBuilder()
      .name('Annotations & Alerts')
      .builtIn(1)
      .datasource({ type: 'grafana', uid: '-- Grafana --' })
      .enable(true)
      .hide(true)
      .iconColor('rgba(0, 211, 255, 1)')
      .type('dashboard'),
  );
  for (const v of commonVariables()) d.withVariable(v);
  // Ids: rows take 100, 200, ...; their panels 101, 102, ...: adding a panel to one row
  // leaves the ids (and links to them, e.g. viewPanel=203) of every other row unchanged.
  spec.rows.forEach((row, r) => {
    const rowId = (r + 1) * 100;
    d.withRow(new dashboard.RowBuilder(row.title).id(rowId));
    row.panels.forEach((p, i) => d.withPanel(timeseriesPanel(rowId + i + 1, p)));
  });
  return d.build();
}
