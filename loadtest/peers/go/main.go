// A Go SDK worker doing exactly what greeter's TypeScript worker does, for benchmarks only
// (`npm run bench -- --only workers`): workflow GreetSomeone, activities greetInSpanish and
// farewellInSpanish calling the translator over HTTP, the timeouts and retry policy of
// services/worker/src/workflows.ts, the task queue from the environment.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The failure types of services/worker/src/errors.ts.
const (
	translatorRejected    = "TranslatorRejectedName"
	translatorUnavailable = "TranslatorUnavailable"
)

// GreetSomeone runs the greeting, then the farewell, and returns both lines.
func GreetSomeone(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        200 * time.Millisecond,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Second,
			MaximumAttempts:        10,
			NonRetryableErrorTypes: []string{translatorRejected},
		},
	})
	var greeting, farewell string
	if err := workflow.ExecuteActivity(ctx, "greetInSpanish", name).Get(ctx, &greeting); err != nil {
		return "", err
	}
	if err := workflow.ExecuteActivity(ctx, "farewellInSpanish", name).Get(ctx, &farewell); err != nil {
		return "", err
	}
	return greeting + "\n" + farewell, nil
}

// TranslateActivities holds the HTTP client, like the example's TranslateActivities(session).
type TranslateActivities struct {
	baseURL string
	http    *http.Client
}

func (a *TranslateActivities) GreetInSpanish(ctx context.Context, name string) (string, error) {
	return a.translate(ctx, "/get-spanish-greeting", name)
}

func (a *TranslateActivities) FarewellInSpanish(ctx context.Context, name string) (string, error) {
	return a.translate(ctx, "/get-spanish-farewell", name)
}

func (a *TranslateActivities) translate(ctx context.Context, path, name string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.baseURL+path+"?name="+url.QueryEscape(name), nil)
	if err != nil {
		return "", err
	}
	res, err := a.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("translator unreachable at %s%s: %w", a.baseURL, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return "", fmt.Errorf("reading the translator's answer for %s: %w", path, err)
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return string(body), nil
	}
	msg := fmt.Sprintf("translator answered %d for %s (name %q): %.200s", res.StatusCode, path, name, body)
	if res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != 408 && res.StatusCode != 429 {
		return "", temporal.NewNonRetryableApplicationError(msg, translatorRejected, nil, res.StatusCode)
	}
	return "", temporal.NewApplicationError(msg, translatorUnavailable, res.StatusCode)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// slots reads a slot count as greeter's worker does (WORKER_MAX_CONCURRENT_*); 0 keeps the SDK default.
func slots(name string) int {
	n, err := strconv.Atoi(os.Getenv(name))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	address := env("TEMPORAL_ADDRESS", "127.0.0.1:7233")
	taskQueue := env("TEMPORAL_TASK_QUEUE", "greeting-tasks")
	c, err := client.Dial(client.Options{
		HostPort:  address,
		Namespace: env("TEMPORAL_NAMESPACE", "default"),
		Logger:    log.NewStructuredLogger(logger),
	})
	if err != nil {
		logger.Error("connecting to Temporal", "address", address, "error", err)
		os.Exit(1)
	}
	defer c.Close()
	w := worker.New(c, taskQueue, worker.Options{
		MaxConcurrentActivityExecutionSize:     slots("WORKER_MAX_CONCURRENT_ACTIVITIES"),
		MaxConcurrentWorkflowTaskExecutionSize: slots("WORKER_MAX_CONCURRENT_WORKFLOW_TASKS"),
	})
	w.RegisterWorkflowWithOptions(GreetSomeone, workflow.RegisterOptions{Name: "GreetSomeone"})
	// A keep-alive pool as large as the activity slots, as undici and aiohttp keep by default.
	a := &TranslateActivities{
		baseURL: env("TRANSLATOR_URL", "http://127.0.0.1:9999"),
		http:    &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}},
	}
	w.RegisterActivityWithOptions(a.GreetInSpanish, activity.RegisterOptions{Name: "greetInSpanish"})
	w.RegisterActivityWithOptions(a.FarewellInSpanish, activity.RegisterOptions{Name: "farewellInSpanish"})
	fmt.Fprintf(os.Stderr, "go peer polling %s on %s\n", taskQueue, address)
	stop := make(chan interface{})
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		close(stop)
	}()
	if err := w.Run(stop); err != nil {
		logger.Error("worker stopped", "error", err)
		os.Exit(1)
	}
}
