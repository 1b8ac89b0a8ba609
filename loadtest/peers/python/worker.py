"""The original example's Python worker (GreetSomeone with TranslateActivities(session) on
aiohttp), with the farewell fix, for benchmarks only (`npm run bench -- --only workers`).
Same workflow type, activity names, timeouts and retry policy as services/worker/src/workflows.ts;
the task queue and the slot counts come from the same variables greeter's worker reads."""

import asyncio
import logging
import os
import signal
import urllib.parse
from datetime import timedelta

import aiohttp
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

# The failure types of services/worker/src/errors.ts.
TRANSLATOR_REJECTED = "TranslatorRejectedName"
TRANSLATOR_UNAVAILABLE = "TranslatorUnavailable"


class TranslateActivities:
    def __init__(self, session: aiohttp.ClientSession, base_url: str):
        self.session = session
        self.base_url = base_url

    @activity.defn(name="greetInSpanish")
    async def greet_in_spanish(self, name: str) -> str:
        return await self.translate("/get-spanish-greeting", name)

    @activity.defn(name="farewellInSpanish")
    async def farewell_in_spanish(self, name: str) -> str:
        return await self.translate("/get-spanish-farewell", name)

    async def translate(self, path: str, name: str) -> str:
        url = f"{self.base_url}{path}?name={urllib.parse.quote(name, safe='')}"
        async with self.session.get(url) as response:
            body = await response.text()
            if 200 <= response.status < 300:
                return body
            message = f"translator answered {response.status} for {path} (name {name!r}): {body[:200]}"
            rejected = 400 <= response.status < 500 and response.status not in (408, 429)
            raise ApplicationError(
                message,
                response.status,
                type=TRANSLATOR_REJECTED if rejected else TRANSLATOR_UNAVAILABLE,
                non_retryable=rejected,
            )


@workflow.defn(name="GreetSomeone")
class GreetSomeone:
    @workflow.run
    async def run(self, name: str) -> str:
        options = dict(
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=200),
                backoff_coefficient=2,
                maximum_interval=timedelta(seconds=5),
                maximum_attempts=10,
                non_retryable_error_types=[TRANSLATOR_REJECTED],
            ),
        )
        greeting = await workflow.execute_activity("greetInSpanish", name, **options)
        # The original example called greet_in_spanish again here; the farewell is the fix.
        farewell = await workflow.execute_activity("farewellInSpanish", name, **options)
        return f"{greeting}\n{farewell}"


def slots(name: str) -> int | None:
    """A slot count as greeter's worker reads it (WORKER_MAX_CONCURRENT_*); None keeps the SDK default."""
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() and int(value) > 0 else None


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    address = os.environ.get("TEMPORAL_ADDRESS", "127.0.0.1:7233")
    task_queue = os.environ.get("TEMPORAL_TASK_QUEUE", "greeting-tasks")
    client = await Client.connect(address, namespace=os.environ.get("TEMPORAL_NAMESPACE", "default"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with aiohttp.ClientSession() as session:
        activities = TranslateActivities(session, os.environ.get("TRANSLATOR_URL", "http://127.0.0.1:9999"))
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[GreetSomeone],
            activities=[activities.greet_in_spanish, activities.farewell_in_spanish],
            max_concurrent_activities=slots("WORKER_MAX_CONCURRENT_ACTIVITIES"),
            max_concurrent_workflow_tasks=slots("WORKER_MAX_CONCURRENT_WORKFLOW_TASKS"),
        ):
            print(f"python peer polling {task_queue} on {address}", flush=True)
            await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
