package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// A query file NAME.promql is served as greeter_NAME (dashes to underscores). Lowercase only,
// so the metric name is a valid path segment and cannot differ from another one by case alone.
var fileNameRE = regexp.MustCompile(`^([a-z0-9][a-z0-9_-]*)\.promql$`)

// A label matcher with a double-quoted value (the form the .promql files are written in):
// name="v", name!="v", name=~"v", name!~"v". Only `=` matchers are substituted.
var matcherRE = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!=|!~|=)\s*"((?:[^"\\]|\\.)*)"`)

// Selector keys that may also stand for a differently spelled label in the query: the
// Temporal SDK metrics say task_queue, Temporal server metrics say taskqueue.
var labelAliases = map[string][]string{"task_queue": {"taskqueue"}}

func metricNameFor(file string) (string, bool) {
	m := fileNameRE.FindStringSubmatch(file)
	if m == nil {
		return "", false
	}
	return "greeter_" + strings.ReplaceAll(m[1], "-", "_"), true
}

// loadQueries reads every *.promql file of dir, keyed by metric name. It is called on each
// request: the files are small, and a ConfigMap update is then served as soon as the kubelet
// has swapped the mounted files. Problems with single files come back as warnings, so one
// bad file does not take the other metrics down.
func loadQueries(dir string) (queries map[string]string, files map[string]string, warnings []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	queries, files = map[string]string{}, map[string]string{}
	// ReadDir is sorted, so a name clash (a-b.promql vs a_b.promql) always keeps the same file.
	for _, e := range entries {
		// A ConfigMap volume holds symlinks NAME -> ..data/NAME, plus ..data and ..<timestamp>
		// directories: follow the links, skip the dot entries.
		name := e.Name()
		if strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".promql") {
			continue
		}
		metric, ok := metricNameFor(name)
		if !ok {
			warnings = append(warnings, fmt.Sprintf("%s: skipped (name must be lowercase [a-z0-9_-] + .promql)", name))
			continue
		}
		if prev, dup := files[metric]; dup {
			warnings = append(warnings, fmt.Sprintf("%s: skipped, %s already serves %s", name, prev, metric))
			continue
		}
		text, rerr := os.ReadFile(filepath.Join(dir, name))
		if rerr != nil {
			warnings = append(warnings, rerr.Error())
			continue
		}
		queries[metric], files[metric] = string(text), name
	}
	return queries, files, warnings, nil
}

// validValue rejects what could end a PromQL string literal or start an escape: a selector
// value goes between double quotes in the query text. (The Kubernetes selector syntax already
// forbids these characters; this does not rely on it.)
func validValue(v string) error {
	if len(v) > 256 {
		return fmt.Errorf("value is longer than 256 characters")
	}
	for _, r := range v {
		if r == '"' || r == '\\' || r == '\'' || r == '`' || r < 0x20 || r == 0x7f {
			return fmt.Errorf("value %q contains a quote, backslash or control character", v)
		}
	}
	return nil
}

// substitute puts the selector's values into the query in place of the literal values of the
// matching `label="..."` matchers. Every selector key must match at least one such matcher,
// and only equality requirements are accepted: anything else would be silently ignored.
// It returns the new query and the selector as labels (for MetricLabels).
func substitute(query string, sel labels.Selector) (string, map[string]string, error) {
	reqs, selectable := sel.Requirements()
	if !selectable {
		return "", nil, fmt.Errorf("selector %q selects nothing", sel.String())
	}
	values := map[string]string{}
	for _, r := range reqs {
		vals := r.Values().List()
		op := r.Operator()
		if (op != selection.Equals && op != selection.DoubleEquals && op != selection.In) || len(vals) != 1 {
			return "", nil, fmt.Errorf("selector %q: only key=value requirements are supported", r.String())
		}
		if err := validValue(vals[0]); err != nil {
			return "", nil, fmt.Errorf("selector label %s: %w", r.Key(), err)
		}
		values[r.Key()] = vals[0]
	}
	// Which selector key each query label is replaced by: a key spelled exactly as the label
	// wins over an alias.
	target := map[string]string{}
	for key := range values {
		for _, alias := range labelAliases[key] {
			if _, taken := values[alias]; !taken {
				target[alias] = key
			}
		}
	}
	for key := range values {
		target[key] = key
	}
	used := map[string]bool{}
	out := matcherRE.ReplaceAllStringFunc(query, func(m string) string {
		sub := matcherRE.FindStringSubmatch(m)
		key, ok := target[sub[1]]
		if !ok || sub[2] != "=" {
			return m
		}
		used[key] = true
		return sub[1] + `="` + values[key] + `"`
	})
	var unknown []string
	for key := range values {
		if !used[key] {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return "", nil, fmt.Errorf("selector label(s) %s: the query has no `label=\"...\"` matcher for them", strings.Join(unknown, ", "))
	}
	return out, values, nil
}
