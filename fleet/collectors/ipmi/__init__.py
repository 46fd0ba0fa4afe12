"""IPMI 2.0 (RMCP+) collector with pyghmi: sensors, SEL (incremental), FRU inventory and power state.

    poll_ipmi(target, timeout=10.0, cursor=None) -> PollResult            one BMC
    poll_ipmi_many(targets, timeout=10.0, concurrency=8, cursors=None)    many, in worker processes

Details, pyghmi's problems and how they are avoided: docs/IPMI.md.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

from pyghmi import exceptions as pyghmi_exc
from pyghmi.ipmi import sdr as pyghmi_sdr

from fleet.clock import utcnow
from fleet.collectors.ipmi import fru as fru_mod
from fleet.collectors.ipmi import sel as sel_mod
from fleet.collectors.ipmi.many import poll_ipmi_many, shutdown_workers
from fleet.collectors.ipmi.sensors import to_reading
from fleet.collectors.ipmi.session import (
    Deadline,
    PollFailure,
    PollTimeout,
    classify,
    connect,
    logout,
    raw,
    suite_of,
)
from fleet.collectors.targets import IpmiOptions, IpmiTarget
from fleet.health.model import Event, InventoryItem, PollResult, Reading

__all__ = ["poll_ipmi", "poll_ipmi_many", "shutdown_workers"]

DEFAULT_TIMEOUT = 10.0
_NOT_PRESENT = 0xCB


class _SDR(pyghmi_sdr.SDR):
    """pyghmi's SDR reader and per-process cache, keeping each raw record: the masks and entity bytes in it say
    which states a sensor supports (presence!) and which part it belongs to; pyghmi's entries drop them."""

    def make_sdr_entry(self, sdrbytes: Any) -> Any:
        entry = super().make_sdr_entry(sdrbytes)
        entry.fleet_record = bytes(sdrbytes)
        return entry


def _sdr_cache_dir(path: str | None) -> str | None:
    if not path:
        return None
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _power(cmd: Any, deadline: Deadline) -> str | None:
    code, data = raw(cmd, deadline, 0x00, 0x01)  # Get Chassis Status
    if code != 0 or not data:
        return None
    return "on" if data[0] & 0x01 else "off"


def _readings(cmd: Any, deadline: Deadline, sdr: Any) -> list[Reading]:
    out = []
    for entry in sorted(sdr.sensors.values(), key=lambda e: (e.sensor_lun, e.sensor_number)):
        if not entry.readable:
            continue
        deadline.check()
        try:
            rsp = cmd.raw_command(netfn=0x04, command=0x2D, data=(entry.sensor_number,), rslun=entry.sensor_lun)
        except pyghmi_exc.IpmiException as exc:
            err = classify(exc)
            raise (PollTimeout() if err == "timeout" else PollFailure(err)) from None
        code = int(rsp.get("code", 0))
        data = b"" if code == _NOT_PRESENT else bytes(rsp.get("data", b""))
        if code not in (0, _NOT_PRESENT):
            raise PollFailure(f"protocol: Get Sensor Reading {entry.sensor_name!r} failed (code 0x{code:02x})")
        out.append(to_reading(entry, getattr(entry, "fleet_record", b""), data, cmd))
    return out


def _inventory(cmd: Any, deadline: Deadline, sdr: Any, chunk: int) -> tuple[list[InventoryItem], int]:
    items: list[InventoryItem] = []
    locators = {0: None, **{fid: loc for fid, loc in sdr.fru.items() if getattr(loc, "fru_logical", True)}}
    for fru_id in sorted(locators):
        info, chunk = fru_mod.read_fru(cmd, deadline, fru_id, chunk)
        if info:
            items += fru_mod.items_for(fru_id, info, locators[fru_id])
    return items, chunk


def _collect(
    target: IpmiTarget, deadline: Deadline, cursor: dict[str, Any], result: PollResult, options: IpmiOptions
) -> None:
    cmd = connect(target, cursor.get("suite"), options)
    try:
        deadline.check()
        cmd.oem_init()
        try:
            # The download is skipped when pyghmi's per-process cache knows this SDR, or when the settings' SDR cache
            # folder holds it from an earlier run (keyed by the BMC's ids and the SDR's own timestamp, so never stale).
            sdr = _SDR(cmd, _sdr_cache_dir(options.sdr_cache_dir))
        except pyghmi_exc.IpmiException as exc:
            err = classify(exc)
            raise (PollTimeout() if err == "timeout" else PollFailure(err)) from None
        except NotImplementedError:
            raise PollFailure("protocol: SDR repository not supported by this BMC") from None
        cmd._sdr = sdr  # pyghmi's own helpers (event decoding) then use the same entries
        result.readings = _readings(cmd, deadline, sdr)
        result.power = _power(cmd, deadline)
        records, sel_cursor = sel_mod.read_new(cmd, deadline, cursor.get("sel"))
        by_number = {e.sensor_number: e for e in sdr.sensors.values()}
        consts = cmd.get_event_constants()
        events: list[Event] = []
        for rec in records:
            ev = sel_mod.to_event(rec, by_number, consts)
            if ev is not None:
                events.append(ev)
        result.events = events
        chunk = int(cursor.get("fru_chunk", fru_mod.START_CHUNK))
        result.inventory, chunk = _inventory(cmd, deadline, sdr, chunk)
        system = next((i for i in result.inventory if i.slot == "System"), None)
        result.vendor = (system.manufacturer if system else None) or f"IANA {sdr.mfg_id}"
        result.cursor = {"sel": sel_cursor, "suite": suite_of(cmd), "fru_chunk": chunk}
    finally:
        logout(cmd)


def poll_ipmi(
    target: IpmiTarget,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    cursor: dict[str, Any] | None = None,
    options: IpmiOptions | None = None,
) -> PollResult:
    """Read one BMC. Never raises, never outlives `timeout` (seconds) by more than a few milliseconds.

    `cursor` is the `PollResult.cursor` of the previous poll of the same BMC (SEL position, cipher suite that
    worked, FRU chunk size); on failure the given cursor is handed back unchanged.
    """
    started, t0 = utcnow(), time.monotonic()
    deadline = Deadline(timeout)
    result = PollResult(host=target.host, protocol="ipmi", reachable=True, polled_at=started, cursor=cursor)
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            _collect(target, deadline, dict(cursor or {}), result, options or IpmiOptions())
        except BaseException as exc:  # turned into a one-line result below
            outcome["error"] = exc

    # pyghmi calls can block for seconds inside their own retry logic; the deadline is kept by waiting on the
    # worker thread, not by trusting every call to return in time.
    worker = threading.Thread(target=run, name=f"ipmi {target.host}:{target.port}", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline.remaining()))
    error: str | None = None
    if worker.is_alive():
        error = "timeout"
    elif "error" in outcome:
        exc = outcome["error"]
        if isinstance(exc, PollTimeout):
            error = "timeout"
        elif isinstance(exc, PollFailure):
            error = exc.error
        elif isinstance(exc, pyghmi_exc.IpmiException):
            error = classify(exc)
        else:
            error = f"protocol: {type(exc).__name__}: {str(exc)[:100]}".rstrip(": ")
    if error:
        return PollResult(
            host=target.host,
            protocol="ipmi",
            reachable=False,
            error=error,
            polled_at=started,
            duration_s=time.monotonic() - t0,
            cursor=cursor,
        )
    result.duration_s = time.monotonic() - t0
    return result
