// greeter-external-metrics: the local cluster's stand-in for prometheus-adapter (whose module
// the Go proxy here does not serve). It serves each NAME.promql file of --queries-dir as the
// external metric greeter_NAME (external.metrics.k8s.io/v1beta1), so the worker HPA can scale on
// task-slot utilization and task-queue backlog. An HPA's metric selector (matchLabels) replaces
// the literal values of the same labels in the query, as prometheus-adapter's <<.LabelMatchers>>.
//
// The API server part (TLS, delegated authn/authz, discovery, OpenAPI) is
// sigs.k8s.io/custom-metrics-apiserver, the library prometheus-adapter is built on.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/component-base/logs"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"
	"k8s.io/metrics/pkg/apis/external_metrics"

	"sigs.k8s.io/custom-metrics-apiserver/pkg/apiserver/metrics"
	basecmd "sigs.k8s.io/custom-metrics-apiserver/pkg/cmd"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

type promProvider struct {
	promURL    string // .../api/v1/query
	queriesDir string
	client     *http.Client

	mu     sync.Mutex
	logged map[string]bool // messages already logged once (empty results, bad files)
}

// logOnce logs msg the first time it is seen; forget(msg) lets it be logged again.
func (p *promProvider) logOnce(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.logged[msg] {
		p.logged[msg] = true
		klog.Warning(msg)
	}
}

func (p *promProvider) forget(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.logged, msg)
}

func (p *promProvider) queries() (map[string]string, map[string]string) {
	q, files, warnings, err := loadQueries(p.queriesDir)
	if err != nil {
		p.logOnce(fmt.Sprintf("reading queries dir: %v", err))
		return nil, nil
	}
	for _, w := range warnings {
		p.logOnce("queries dir: " + w)
	}
	return q, files
}

func (p *promProvider) ListAllExternalMetrics() []provider.ExternalMetricInfo {
	q, _ := p.queries()
	infos := make([]provider.ExternalMetricInfo, 0, len(q))
	for name := range q {
		infos = append(infos, provider.ExternalMetricInfo{Metric: name})
	}
	return infos
}

// GetExternalMetric ignores namespace (the HPA's own namespace): the series' namespace label is
// the Temporal namespace, which the HPA passes in its selector instead.
func (p *promProvider) GetExternalMetric(ctx context.Context, _ string, sel labels.Selector, info provider.ExternalMetricInfo) (*external_metrics.ExternalMetricValueList, error) {
	q, files := p.queries()
	text, ok := q[info.Metric]
	if !ok {
		return nil, &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusNotFound,
			Reason: metav1.StatusReasonNotFound, Message: fmt.Sprintf("no external metric %s (no matching .promql file in %s)", info.Metric, p.queriesDir)}}
	}
	query, metricLabels, err := substitute(text, sel)
	if err != nil {
		klog.Errorf("%s (%s): %v", info.Metric, files[info.Metric], err)
		return nil, apierrors.NewBadRequest(fmt.Sprintf("%s (%s): %v", info.Metric, files[info.Metric], err))
	}
	value, ts, n, err := p.instantQuery(ctx, query)
	if err == nil && n > 1 {
		// The .promql files are written to return one sample; summing several would hide a bug.
		err = fmt.Errorf("returned %d samples, want 1 (aggregate it in the query)", n)
	}
	if err != nil {
		klog.Errorf("query %s (%s, selector %q): %v", files[info.Metric], info.Metric, sel.String(), err)
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("query %s: %v", files[info.Metric], err))
	}
	emptyMsg := fmt.Sprintf("query %s (selector %q) returned no samples: serving 0", files[info.Metric], sel.String())
	if n == 0 {
		// A task queue nobody has polled yet has no series, and no backlog.
		p.logOnce(emptyMsg)
		value, ts = 0, time.Now()
	} else {
		p.forget(emptyMsg)
	}
	qty, err := milliQuantity(value)
	if err != nil {
		klog.Errorf("query %s (%s): %v", files[info.Metric], info.Metric, err)
		return nil, apierrors.NewInternalError(fmt.Errorf("query %s: %w", files[info.Metric], err))
	}
	return &external_metrics.ExternalMetricValueList{Items: []external_metrics.ExternalMetricValue{{
		MetricName: info.Metric, MetricLabels: metricLabels, Timestamp: metav1.NewTime(ts), Value: *qty,
	}}}, nil
}

func milliQuantity(v float64) (*resource.Quantity, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 9e15 {
		return nil, fmt.Errorf("value %v cannot be served as a quantity", v)
	}
	return resource.NewMilliQuantity(int64(math.Round(v*1000)), resource.DecimalSI), nil
}

// promResponse is the part of Prometheus' /api/v1/query answer used here.
type promResponse struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

// instantQuery runs query and returns its value, the sample's time and the number of samples
// (0 or 1 for a scalar or a vector of one; more is an error to the caller).
func (p *promProvider) instantQuery(ctx context.Context, query string) (float64, time.Time, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.promURL, strings.NewReader(url.Values{"query": {query}}.Encode()))
	if err != nil {
		return 0, time.Time{}, 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, time.Time{}, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return 0, time.Time{}, 0, err
	}
	var pr promResponse
	if err := json.Unmarshal(body, &pr); err != nil {
		return 0, time.Time{}, 0, fmt.Errorf("prometheus answered HTTP %d, not JSON", resp.StatusCode)
	}
	if pr.Status != "success" {
		return 0, time.Time{}, 0, fmt.Errorf("prometheus: HTTP %d: %s", resp.StatusCode, pr.Error)
	}
	var samples [][]json.RawMessage // each [time, "value"]
	switch pr.Data.ResultType {
	case "scalar":
		var s []json.RawMessage
		if err := json.Unmarshal(pr.Data.Result, &s); err != nil {
			return 0, time.Time{}, 0, fmt.Errorf("bad scalar result: %v", err)
		}
		samples = append(samples, s)
	case "vector":
		var vec []struct {
			Value []json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(pr.Data.Result, &vec); err != nil {
			return 0, time.Time{}, 0, fmt.Errorf("bad vector result: %v", err)
		}
		for _, s := range vec {
			samples = append(samples, s.Value)
		}
	default:
		return 0, time.Time{}, 0, fmt.Errorf("result type %q, want vector or scalar", pr.Data.ResultType)
	}
	if len(samples) != 1 {
		return 0, time.Time{}, len(samples), nil
	}
	var sec float64
	var val string
	if len(samples[0]) != 2 || json.Unmarshal(samples[0][0], &sec) != nil || json.Unmarshal(samples[0][1], &val) != nil {
		return 0, time.Time{}, 0, fmt.Errorf("bad sample %s", samples[0])
	}
	var v float64
	// Prometheus writes NaN and +Inf/-Inf as such; Sscan reads those as well as numbers.
	if _, err := fmt.Sscan(val, &v); err != nil {
		return 0, time.Time{}, 0, fmt.Errorf("bad sample value %q", val)
	}
	return v, time.UnixMilli(int64(math.Round(sec * 1000))), 1, nil
}

func main() {
	logs.InitLogs()
	defer logs.FlushLogs()

	a := &basecmd.AdapterBase{Name: "greeter-external-metrics"}
	var promURL, queriesDir string
	fs := a.Flags() // secure serving, delegated authn/authz, audit, --lister-kubeconfig ...
	fs.StringVar(&promURL, "prometheus-url", "", "Prometheus base URL, e.g. http://prometheus.observability.svc:9090")
	fs.StringVar(&queriesDir, "queries-dir", "/etc/greeter/queries", "directory of NAME.promql files, each served as the external metric greeter_NAME")
	logs.AddFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		klog.Fatalf("flags: %v", err)
	}
	u, err := url.Parse(promURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		klog.Fatalf("--prometheus-url must be an http(s) URL, got %q", promURL)
	}
	if _, err := os.ReadDir(queriesDir); err != nil {
		klog.Fatalf("--queries-dir: %v", err)
	}
	p := &promProvider{promURL: u.JoinPath("api/v1/query").String(), queriesDir: queriesDir,
		client: &http.Client{Timeout: 10 * time.Second}, logged: map[string]bool{}}
	a.WithExternalMetrics(p)
	if err := metrics.RegisterMetrics(legacyregistry.Register); err != nil {
		klog.Fatalf("registering metrics: %v", err)
	}
	q, _ := p.queries()
	klog.Infof("serving %d external metrics from %s, querying %s", len(q), queriesDir, u.Redacted())
	if err := a.Run(genericapiserver.SetupSignalContext()); err != nil {
		klog.Fatalf("adapter: %v", err)
	}
}
