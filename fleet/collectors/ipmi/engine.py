"""Hundreds of BMCs in flight in one thread, on pyghmi's own event loop.

pyghmi was built for this: a session opened with `onlogon=` logs in without blocking, `raw_command(...,
callback=)` returns at once, and `Session.wait_for_rsp()` drives every session's IO, retry timers and callbacks.
Each BMC's poll is a generator (program.py) that yields requests; a callback parks the reply, and the loop resumes
the generator with it. No threads of ours, no worker processes; pyghmi keeps its one IO thread.

Deadlines: each poll has its own. Past it, the session is dropped (its retries stop, a logout is sent if it was
logged in) and the result is `timeout`. A BMC that does not answer costs exactly its deadline: when pyghmi gives a
login up (after about 5 s of retries) and time is left, the login starts again.

Slots: at most `concurrency` polls of a batch talk to their BMCs at once. A poll whose BMC has not sent a single
datagram after KNOCK_AFTER_S (or a quarter of the deadline, if shorter) gives its slot up and goes on knocking (pyghmi
retransmits its first login packet, about one datagram a second) in a lane of its own, until it gets an answer (it
takes a slot back, over the limit for a moment) or its deadline. The lane holds max(concurrency, KNOCK_LANE_MIN)
polls: a knocking poll costs a session object and a few datagrams, so a whole dark rack row (hundreds of BMCs) knocks
at once while the live ones keep every slot. A dead BMC costs its deadline and delays no live one.

Threads: whichever thread calls `run()` drives the loop for everybody while it has work in flight; another caller
(the console's re-poll during a sweep) hands its polls to the same loop and waits, and takes the loop over when the
driver leaves. So pyghmi's loop is never driven by two threads at once.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyghmi import exceptions as pyghmi_exc
from pyghmi.ipmi.private import session as _s

from fleet.clock import utcnow
from fleet.collectors.ipmi import patches
from fleet.collectors.ipmi.program import steps
from fleet.collectors.ipmi.session import Deadline, PollFailure, PollTimeout, Reply, Request, classify
from fleet.collectors.targets import IpmiOptions, IpmiTarget
from fleet.health.model import PollResult
from fleet.limits import KNOCK_AFTER_S

log = logging.getLogger(__name__)

KNOCK_LANE_MIN = 256  # the knocking lane holds at least this many polls (more with a larger concurrency)
LOGIN_RETRY_MIN_S = 0.5  # a login pyghmi gave up is tried again only when at least this much deadline is left
_IDLE_WAIT_S = 0.25  # longest single wait of a caller whose polls another thread drives
_TIMERS_S = 0.05  # pyghmi's retry timers (0.5 s and up) are served at least this often: at most 50 ms late
# Admission control: while replies wait on our side longer than this (a recent average, from the kernel's receive
# timestamp to the poll getting the reply), no new poll starts. A client short of CPU would otherwise let waits reach
# pyghmi's 0.5 s retry timer: requests sent twice, login handshakes restarted, more traffic for the same CPU. A held
# poll loses nothing (its deadline starts when it is admitted); a poll already in flight is never held.
ADMIT_LAG_MAX_S = 0.15
_LAG_STALE_S = 0.5  # a lag measured longer ago than this no longer holds admission (no reply came since)
_LAG_WEIGHT = 0.1  # weight of each reply in the recent average


@dataclass(eq=False)
class Job:
    target: IpmiTarget
    cursor: dict[str, Any] | None
    deadline: Deadline
    options: IpmiOptions
    batch: Batch
    started: float = 0.0
    result: PollResult | None = None
    session: Any = None
    steps: Generator[Request, Reply, None] | None = None
    outcome: PollResult | None = None  # set when finished
    sent_at: float = 0.0  # when the request in flight was sent
    index: int = 0  # position in the caller's target list
    knocking: bool = False  # in the knocking lane: its BMC has not answered yet, it holds no slot

    @property
    def key(self) -> tuple[str, int]:
        return (self.target.host, self.target.port)


@dataclass(eq=False)
class Batch:
    """One caller's polls: at most `concurrency` in flight; `done` is set when every one has its result."""

    jobs: list[Job] = field(default_factory=list)
    concurrency: int = 64
    timeout: float = 10.0
    waiting: collections.deque[Job] = field(default_factory=collections.deque)
    in_flight: int = 0  # polls holding a slot
    knocking: int = 0  # polls in the knocking lane
    left: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    # called with (index in the targets, result) as each poll ends, on the thread driving the loop: a caller can
    # store results while the rest are still polled
    on_result: Callable[[int, PollResult], None] | None = None


class Engine:
    def __init__(self) -> None:
        self._mutex = threading.Lock()  # batches and the ready queue: other threads submit
        self._driver = threading.Lock()  # held by the thread driving pyghmi's loop
        self._batches: list[Batch] = []
        self._active: dict[tuple[str, int], Job] = {}
        self._ready: collections.deque[tuple[Job, str, dict[str, Any]]] = collections.deque()
        self._unanswered: collections.deque[Job] = collections.deque()  # started polls, oldest first: knock candidates
        # Observation for tests and benchmarks: called for each request with the seconds from sending it to handling
        # its reply, and from the reply's arrival in our socket to handling it (a client-side stall shows there);
        # and the most polls in flight at once.
        self.read_hook: Callable[[float, float], None] | None = None
        self.peak_in_flight = 0
        self._timers_at = 0.0
        self._lag = 0.0  # recent average of how long a reply waited on our side
        self._lag_at = 0.0  # when the last reply was handled
        self.admissions_held = 0  # steps in which admission control held new polls back (for tests and benchmarks)

    # ------------------------------------------------------------ the caller's side

    def run(
        self,
        targets: Sequence[IpmiTarget],
        *,
        timeout: float,
        concurrency: int,
        cursors: dict[tuple[str, int], dict[str, Any]],
        options: IpmiOptions,
        on_result: Callable[[int, PollResult], None] | None = None,
    ) -> list[PollResult]:
        patches.install(wakeup_fix=options.wakeup_fix, bind=options.bind)
        batch = Batch(concurrency=max(1, concurrency), timeout=timeout, on_result=on_result)
        for i, t in enumerate(targets):
            job = Job(t, cursors.get((t.host, t.port)), Deadline(timeout), options, batch, index=i)
            batch.jobs.append(job)
            batch.waiting.append(job)
        batch.left = len(batch.jobs)
        if not batch.jobs:
            return []
        with self._mutex:
            self._batches.append(batch)
        while not batch.done.is_set():
            if self._driver.acquire(blocking=False):
                try:
                    with patches.driving():
                        while not batch.done.is_set():
                            self._step()
                finally:
                    self._driver.release()
            else:  # another thread drives the loop (and our polls): wait, and take over if it leaves
                batch.done.wait(_IDLE_WAIT_S)
        return [j.outcome for j in batch.jobs if j.outcome is not None]

    # ------------------------------------------------------------ the loop

    def _step(self) -> None:
        self._admit()
        self._expire()
        self._advance()
        if not self._active:
            return
        now = time.monotonic()
        nearest = min(j.deadline.at for j in self._active.values())
        wait = 0.0 if self._ready else min(_TIMERS_S, max(0.0, nearest - now), max(0.0, self._timers_at - now))
        try:
            patches.pump(wait)  # select and read in this thread (patches.py, 6)
            while _s.sessionqueue:
                _s.sessionqueue.popleft().process_pktqueue()  # decrypt, match, call our callbacks
            if time.monotonic() >= self._timers_at:
                # Retries, re-logins and pyghmi's own timeouts: its loop with nothing to wait for. First whatever
                # arrived meanwhile: a reply already in our socket must never count as lost (on a busy machine a
                # retransmitted login step restarts the whole handshake).
                patches.pump(0.0)
                while _s.sessionqueue:
                    _s.sessionqueue.popleft().process_pktqueue()
                _s.Session.wait_for_rsp(timeout=0)
                self._timers_at = time.monotonic() + _TIMERS_S
        except Exception:  # pyghmi's retry paths can raise for one session; its poll meets its deadline
            log.debug("pyghmi's event loop raised", exc_info=True)
        self._advance()

    def _knock(self) -> None:
        """Move the polls whose BMC has sent nothing for KNOCK_AFTER_S (a quarter of the deadline if shorter) from
        their slot to the knocking lane. Polls start in order, so the oldest are at the left: amortised O(1)."""
        now = time.monotonic()
        watch = self._unanswered
        while watch:
            job = watch[0]
            batch = job.batch
            if job.outcome is not None or getattr(job.session, "fleet_arrived", 0.0) >= job.started:
                watch.popleft()  # finished, or its BMC answered: it keeps its slot
                continue
            if now - job.started < min(KNOCK_AFTER_S, batch.timeout / 4):
                return
            if batch.knocking >= max(batch.concurrency, KNOCK_LANE_MIN):
                return  # the lane is full: it keeps its slot until a knocking poll ends
            watch.popleft()
            job.knocking = True
            batch.in_flight -= 1
            batch.knocking += 1

    def _admit(self) -> None:
        self._knock()
        with self._mutex:
            batches = list(self._batches)
        if not self._active:
            self._lag = 0.0  # nothing in flight: nothing to fall behind on
        elif self._lag > ADMIT_LAG_MAX_S and time.monotonic() - self._lag_at < _LAG_STALE_S:
            if any(b.waiting for b in batches):
                self.admissions_held += 1
            return  # the loop is behind: finish what is in flight first
        for batch in batches:
            # jobs for a BMC already in flight (the same BMC in two batches) wait: one session per BMC
            skipped: list[Job] = []
            while batch.waiting and batch.in_flight < batch.concurrency:
                job = batch.waiting.popleft()
                if job.key in self._active:
                    skipped.append(job)
                    continue
                batch.in_flight += 1
                job.deadline = Deadline(batch.timeout)  # the deadline runs from the moment the poll starts
                self._start(job)
            batch.waiting.extendleft(reversed(skipped))

    def _start(self, job: Job) -> None:
        t = job.target
        job.started = time.monotonic()
        job.result = PollResult(host=t.host, protocol="ipmi", reachable=True, polled_at=utcnow(), cursor=job.cursor)
        suites = tuple(s for s in t.cipher_suites if s in patches.SUPPORTED_SUITES)
        if not suites:
            self._finish(job, "protocol: no usable cipher suite (supported: 17, 3; 0 is never used)")
            return
        preferred = (job.cursor or {}).get("suite")
        if preferred in suites:  # the suite that worked last time first: saves the refused round trip
            suites = (preferred, *(s for s in suites if s != preferred))
        patches.allow_suites(t.host, t.port, suites)
        self._active[job.key] = job
        self._unanswered.append(job)
        self.peak_in_flight = max(self.peak_in_flight, len(self._active))
        self._login(job)

    def _login(self, job: Job) -> None:
        t = job.target
        try:
            # bytes, not str: with str a second session to the same BMC can find a stale entry and hang
            job.session = _s.Session(
                bmc=t.host,
                userid=t.user.encode("utf-8"),
                password=t.password.as_bytes(),
                port=t.port,
                onlogon=lambda rsp: self._ready.append((job, "login", rsp)),
                keepalive=False,
            )
        except pyghmi_exc.IpmiException as exc:
            self._finish(job, classify(exc))
        except (OSError, socket.gaierror) as exc:
            self._finish(job, f"protocol: cannot reach {t.host}: {exc.strerror or exc}")

    def _expire(self) -> None:
        now = time.monotonic()
        for job in [j for j in self._active.values() if j.deadline.at <= now]:
            self._finish(job, "timeout")

    def _advance(self) -> None:
        while self._ready:
            job, kind, rsp = self._ready.popleft()
            if job.outcome is not None or self._active.get(job.key) is not job:
                continue  # a late reply for a poll already finished
            if kind == "login":
                self._logged_in(job, rsp)
            else:
                code = int(rsp.get("code", 0) or 0)
                if rsp.get("error") == "timeout" or code == 0xFFFF:
                    self._finish(job, "timeout")
                else:
                    self._send(job, (code, bytes(rsp.get("data", b""))))

    def _logged_in(self, job: Job, rsp: dict[str, Any]) -> None:
        if "error" in rsp:
            error = classify(rsp["error"])
            if error == "timeout" and job.deadline.remaining() > LOGIN_RETRY_MIN_S:
                # pyghmi stopped knocking after ~5 s; the deadline asked for is longer: knock again
                self._drop(job.session)
                self._login(job)
                return
            self._finish(job, error)
            return
        sess = job.session
        if job.knocking:  # it answered after all: back to a slot (over the limit until a poll ends)
            job.knocking = False
            job.batch.knocking -= 1
            job.batch.in_flight += 1
        suite = patches.suite_of(sess)
        allowed = patches._allowed.get(job.key, patches.SUPPORTED_SUITES)
        if suite not in allowed:
            self._finish(job, f"protocol: BMC refused cipher suite {allowed[0]} and fell back to {suite}")
            return
        sess.fleet_callback = lambda reply: self._on_reply(job, sess, reply)
        assert job.result is not None
        job.steps = steps(dict(job.cursor or {}), job.deadline, job.options, job.result, suite)
        self._send(job, None)

    def _on_reply(self, job: Job, sess: Any, reply: dict[str, Any]) -> None:
        patches.end_command(sess)
        now = time.monotonic()
        waited = now - getattr(sess, "fleet_arrived", now)
        self._lag += _LAG_WEIGHT * (waited - self._lag)
        self._lag_at = now
        if self.read_hook is not None:
            self.read_hook(now - job.sent_at, waited)
        self._ready.append((job, "reply", reply))

    def _send(self, job: Job, reply: Reply | None) -> None:
        assert job.steps is not None
        try:
            request = job.steps.send(reply) if reply is not None else next(job.steps)
        except StopIteration:
            self._finish(job, None)
            return
        except PollTimeout:
            self._finish(job, "timeout")
            return
        except PollFailure as exc:
            self._finish(job, exc.error)
            return
        except Exception as exc:  # a BMC that sends what we cannot decode: one line, never a traceback
            self._finish(job, f"protocol: {type(exc).__name__}: {str(exc)[:100]}".rstrip(": "))
            return
        sess = job.session
        job.sent_at = time.monotonic()
        try:
            sess.raw_command(
                netfn=request.netfn,
                command=request.command,
                data=request.data,
                rslun=request.lun,
                callback=sess.fleet_callback,
            )
        except pyghmi_exc.IpmiException as exc:
            self._finish(job, classify(exc))

    # ------------------------------------------------------------ the end of a poll

    def _finish(self, job: Job, error: str | None) -> None:
        if job.outcome is not None:
            return
        if job.steps is not None:
            job.steps.close()
        self._drop(job.session)
        self._active.pop(job.key, None)
        t, res = job.target, job.result
        duration = time.monotonic() - job.started
        if error is None and res is not None:
            res.duration_s = duration
            job.outcome = res
        else:
            job.outcome = PollResult(
                host=t.host,
                protocol="ipmi",
                reachable=False,
                error=error or "timeout",
                polled_at=res.polled_at if res else utcnow(),
                duration_s=duration,
                cursor=job.cursor,  # a failed poll hands back the cursor it was given
            )
        batch = job.batch
        if job.knocking:
            batch.knocking -= 1
        else:
            batch.in_flight -= 1
        batch.left -= 1
        if batch.on_result is not None:
            try:
                batch.on_result(job.index, job.outcome)
            except Exception:  # the caller's problem must not stop everybody's polls
                log.exception("on_result callback failed")
        if batch.left == 0:
            with self._mutex:
                self._batches.remove(batch)
            batch.done.set()

    @staticmethod
    def _drop(sess: Any) -> None:
        """End a session without waiting: no retries left, no callbacks, a logout sent if it was logged in."""
        if sess is None:
            return
        sess.fleet_callback = None
        sess.logonwaiters = []
        sess.ipmicallback = lambda _rsp: None
        sess.incommand = False
        sess.lastpayload = None
        sess.onlogpayload = None
        sess.pendingpayloads.clear()
        with contextlib.suppress(Exception):
            with _s.util.protect(_s.WAITING_SESSIONS):
                _s.Session.waiting_sessions.pop(sess, None)
            if not sess.broken:
                # retry=False inside: the logout request is sent, nothing waits for its reply
                sess._mark_broken("dropped")


ENGINE = Engine()
