package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"

	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

const slotQuery = `max(
  sum by (worker_type) (temporal_worker_task_slots_used{namespace="default", task_queue="greeting-tasks"})
  / (sum by (worker_type) (temporal_worker_task_slots_available{namespace="default",task_queue = "greeting-tasks", worker_type!="x"}))
)`

func sel(t *testing.T, s string) labels.Selector {
	t.Helper()
	parsed, err := labels.Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return parsed
}

func TestSubstitute(t *testing.T) {
	out, got, err := substitute(slotQuery, sel(t, "namespace=prod,task_queue=orders"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(out, `namespace="prod"`) != 2 || strings.Count(out, `task_queue="orders"`) != 2 ||
		strings.Contains(out, "default") || strings.Contains(out, "greeting-tasks") {
		t.Errorf("not every literal replaced:\n%s", out)
	}
	if !strings.Contains(out, `worker_type!="x"`) {
		t.Errorf("a != matcher was touched:\n%s", out)
	}
	if got["namespace"] != "prod" || got["task_queue"] != "orders" || len(got) != 2 {
		t.Errorf("metric labels %v", got)
	}

	// An empty selector runs the query as written.
	if out, got, err := substitute(slotQuery, labels.Everything()); err != nil || out != slotQuery || len(got) != 0 {
		t.Errorf("empty selector: %q %v %v", out, got, err)
	}
	// `==` and a one-value `in` are equality too.
	if out, _, err := substitute(slotQuery, sel(t, "task_queue==a,namespace in (b)")); err != nil ||
		!strings.Contains(out, `task_queue="a"`) || !strings.Contains(out, `namespace="b"`) {
		t.Errorf("== / in: %q %v", out, err)
	}
}

func TestSubstituteTaskqueueAlias(t *testing.T) {
	q := `sum(temporal_approximate_backlog_count{namespace="default", taskqueue="greeting-tasks", task_type="Activity"})`
	out, got, err := substitute(q, sel(t, "namespace=default,task_queue=other"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `taskqueue="other"`) || got["task_queue"] != "other" {
		t.Errorf("alias not applied: %s %v", out, got)
	}
	// A query with both spellings: both are replaced by task_queue...
	both := `a{task_queue="x"} + b{taskqueue="x"}`
	if out, _, err := substitute(both, sel(t, "task_queue=y")); err != nil || strings.Count(out, `="y"`) != 2 {
		t.Errorf("both spellings: %q %v", out, err)
	}
	// ...unless the selector names taskqueue itself, which then wins for that label.
	if out, _, err := substitute(both, sel(t, "task_queue=y,taskqueue=z")); err != nil || out != `a{task_queue="y"} + b{taskqueue="z"}` {
		t.Errorf("explicit key over alias: %q %v", out, err)
	}
}

func TestSubstituteRejects(t *testing.T) {
	for _, s := range []string{
		"pod=x",                      // no such matcher in the query
		"worker_type=x",              // only a != matcher for it
		"namespace!=default",         // not equality
		"namespace in (a,b)",         // more than one value
		"namespace notin (a)",        // not equality
		"namespace",                  // exists
		"!namespace",                 // does not exist
		"namespace=a,app.k8s.io/x=y", // unknown key among known ones
	} {
		if _, _, err := substitute(slotQuery, sel(t, s)); err == nil {
			t.Errorf("selector %q accepted", s)
		}
	}
	if _, _, err := substitute(slotQuery, labels.Nothing()); err == nil {
		t.Error("labels.Nothing accepted")
	}
}

func TestValidValue(t *testing.T) {
	for _, v := range []string{`a"}) or vector(1) #`, `a\`, "a'b", "a`b", "a\nb", strings.Repeat("a", 257)} {
		if validValue(v) == nil {
			t.Errorf("%q accepted", v)
		}
	}
	for _, v := range []string{"", "greeting-tasks", "my.namespace_1", "with space"} {
		if err := validValue(v); err != nil {
			t.Errorf("%q rejected: %v", v, err)
		}
	}
}

func TestMetricNameAndLoad(t *testing.T) {
	for in, want := range map[string]string{
		"slot-utilization.promql":   "greeter_slot_utilization",
		"task-queue-backlog.promql": "greeter_task_queue_backlog",
		"Upper.promql":              "",
		"x.txt":                     "",
	} {
		if got, _ := metricNameFor(in); got != want {
			t.Errorf("metricNameFor(%q) = %q, want %q", in, got, want)
		}
	}
	// A ConfigMap volume's layout: ..data -> ..<ts>/, NAME -> ..data/NAME.
	dir := t.TempDir()
	ts := filepath.Join(dir, "..2026_01_01_00_00_00.1")
	must(t, os.Mkdir(ts, 0o755))
	must(t, os.WriteFile(filepath.Join(ts, "slot-utilization.promql"), []byte(slotQuery), 0o644))
	must(t, os.WriteFile(filepath.Join(ts, "a-b.promql"), []byte("1"), 0o644))
	must(t, os.WriteFile(filepath.Join(ts, "a_b.promql"), []byte("2"), 0o644))
	must(t, os.Symlink(filepath.Base(ts), filepath.Join(dir, "..data")))
	for _, f := range []string{"slot-utilization.promql", "a-b.promql", "a_b.promql"} {
		must(t, os.Symlink(filepath.Join("..data", f), filepath.Join(dir, f)))
	}
	q, files, warnings, err := loadQueries(dir)
	must(t, err)
	if len(q) != 2 || q["greeter_slot_utilization"] != slotQuery || q["greeter_a_b"] != "1" || files["greeter_a_b"] != "a-b.promql" {
		t.Errorf("loaded %v %v", q, files)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "a_b.promql") {
		t.Errorf("warnings %v", warnings)
	}
}

// The query path against a stand-in Prometheus: the answer's parsing, and the errors.
func TestGetExternalMetric(t *testing.T) {
	answers := map[string]string{
		"one":   `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.5,"0.4567"]}]}}`,
		"none":  `{"status":"success","data":{"resultType":"vector","result":[]}}`,
		"two":   `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]}}`,
		"scal":  `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"12"]}}`,
		"nan":   `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"NaN"]}]}}`,
		"bad":   `{"status":"error","errorType":"bad_data","error":"parse error"}`,
		"range": `{"status":"success","data":{"resultType":"matrix","result":[]}}`,
	}
	var lastQuery string
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" || r.ParseForm() != nil {
			http.NotFound(w, r)
			return
		}
		lastQuery = r.PostForm.Get("query")
		kind := strings.SplitN(lastQuery, "{", 2)[0]
		if kind == "bad" {
			w.WriteHeader(http.StatusBadRequest)
		}
		fmt.Fprint(w, answers[kind])
	}))
	defer prom.Close()
	dir := t.TempDir()
	for name := range answers {
		must(t, os.WriteFile(filepath.Join(dir, name+".promql"), []byte(name+`{namespace="default", task_queue="greeting-tasks"}`), 0o644))
	}
	p := &promProvider{promURL: prom.URL + "/api/v1/query", queriesDir: dir, client: prom.Client(), logged: map[string]bool{}}
	if n := len(p.ListAllExternalMetrics()); n != len(answers) {
		t.Errorf("listed %d metrics", n)
	}
	get := func(metric, selector string) (string, error) {
		res, err := p.GetExternalMetric(context.Background(), "greeter", sel(t, selector), provider.ExternalMetricInfo{Metric: metric})
		if err != nil {
			return "", err
		}
		if len(res.Items) != 1 || res.Items[0].MetricName != metric {
			t.Fatalf("%s: items %+v", metric, res.Items)
		}
		it := res.Items[0]
		return fmt.Sprintf("%s %d %v", it.Value.String(), it.Timestamp.Unix(), it.MetricLabels), nil
	}
	if got, err := get("greeter_one", "namespace=n,task_queue=q"); err != nil || got != "457m 1700000000 map[namespace:n task_queue:q]" {
		t.Errorf("one: %q %v", got, err)
	}
	if lastQuery != `one{namespace="n", task_queue="q"}` {
		t.Errorf("sent %q", lastQuery)
	}
	if got, err := get("greeter_scal", ""); err != nil || !strings.HasPrefix(got, "12 1700000000 ") {
		t.Errorf("scalar: %q %v", got, err)
	}
	if got, err := get("greeter_none", "task_queue=q"); err != nil || !strings.HasPrefix(got, "0 ") {
		t.Errorf("empty vector: %q %v", got, err)
	}
	for _, m := range []string{"greeter_two", "greeter_nan", "greeter_bad", "greeter_range"} {
		if _, err := get(m, ""); err == nil {
			t.Errorf("%s: no error", m)
		} else if m == "greeter_two" && !strings.Contains(err.Error(), "two.promql") {
			t.Errorf("%s: error does not name the query: %v", m, err)
		}
	}
	if _, err := get("greeter_one", "pod=x"); !apierrors.IsBadRequest(err) {
		t.Errorf("unknown selector key: %v", err)
	}
	if _, err := get("greeter_missing", ""); !apierrors.IsNotFound(err) {
		t.Errorf("missing metric: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The repo's own query files (k8s/queries, the ConfigMap greeter-queries) take the selector the
// chart's HPA sends: namespace plus task_queue (or the server's spelling, taskqueue).
func TestRepoQueries(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "k8s", "queries")
	queries, files, warnings, err := loadQueries(dir)
	if err != nil {
		t.Skipf("no %s: %v", dir, err)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
	for metric, text := range queries {
		out, _, err := substitute(text, sel(t, "namespace=ns1,task_queue=q1"))
		if err != nil {
			t.Errorf("%s (%s): %v", metric, files[metric], err)
			continue
		}
		if !strings.Contains(out, `namespace="ns1"`) || !strings.Contains(out, `="q1"`) || strings.Contains(out, `namespace="default"`) {
			t.Errorf("%s (%s): literals left:\n%s", metric, files[metric], out)
		}
	}
}
