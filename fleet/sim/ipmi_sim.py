"""Files for OpenIPMI's `ipmi_sim`: one simulated server BMC per process, on 127.0.0.1 only.

Pure functions: they build the SDR repository (binary records, IPMI 2.0 section 43), the emu command file
(`man 5 ipmi_sim_cmd`), the LAN configuration (`man 5 ipmi_lan`) and FRU data for a server *layout*, and write
them into a directory. Starting and stopping the process is the caller's business (tests, the demo).

Two layouts exist so that nothing is tuned to one shape of server:
  "1u"  2 PSUs, 2 fans, 2 drives, 1 DIMM, one CPU;
  "2u"  2 PSUs, 6 fans, 6 drives, 4 DIMMs, two CPUs, CMOS battery.
"""

from __future__ import annotations

import socket
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

BMC_ADDR = 0x20
USER = "admin"

# IPMI sensor type codes (IPMI 2.0 table 42-3) and entity ids (table 43-13) used by the layouts.
TEMP, VOLT, FAN, PROC, PSU, OTHER_UNITS, MEMORY, DRIVE, BATTERY = 0x01, 0x02, 0x04, 0x07, 0x08, 0x0B, 0x0C, 0x0D, 0x29
ENT_PROC, ENT_DISK_BAY, ENT_PSU, ENT_BOARD, ENT_FAN, ENT_MEM, ENT_AIR, ENT_BATTERY = 3, 4, 10, 7, 29, 32, 55, 41
# Base unit codes (table 43-15).
UNIT_NONE, UNIT_DEGC, UNIT_VOLT, UNIT_WATT, UNIT_RPM = 0, 1, 4, 6, 18

THRESHOLD_NAMES = ("unr", "uc", "unc", "lnr", "lc", "lnc")


@dataclass(frozen=True)
class SensorSpec:
    number: int
    name: str  # at most 16 characters (the SDR id string)
    sensor_type: int
    entity: int
    instance: int
    # Threshold sensor: raw reading, unit, reading = raw * m * 10**r_exp, thresholds in raw counts.
    raw: int = 0
    unit: int = UNIT_NONE
    m: int = 1
    r_exp: int = 0
    thresholds: dict[str, int] = field(default_factory=dict)
    # Discrete (sensor-specific, reading type 0x6f) sensor: offsets it supports and those asserted at start.
    states: tuple[int, ...] = ()
    asserted: tuple[int, ...] = ()

    @property
    def discrete(self) -> bool:
        return bool(self.states)


@dataclass(frozen=True)
class FruSpec:
    fru_id: int
    name: str
    entity: int
    instance: int
    manufacturer: str
    product: str
    part_number: str
    serial_prefix: str


@dataclass(frozen=True)
class Layout:
    name: str
    manufacturer: str
    product: str
    part_number: str
    sensors: tuple[SensorSpec, ...]
    frus: tuple[FruSpec, ...]

    def sensor(self, name: str) -> SensorSpec:
        for s in self.sensors:
            if s.name == name:
                return s
        raise KeyError(name)


def _temp(n: int, name: str, entity: int, inst: int, raw: int, unc: int, uc: int, unr: int) -> SensorSpec:
    return SensorSpec(n, name, TEMP, entity, inst, raw, UNIT_DEGC, thresholds={"unc": unc, "uc": uc, "unr": unr})


def _fan(n: int, inst: int, raw: int) -> SensorSpec:
    # RPM = raw * 100; lower thresholds 1500 / 1000 / 500 RPM.
    return SensorSpec(
        n, f"FAN{inst}", FAN, ENT_FAN, inst, raw, UNIT_RPM, m=100, thresholds={"lnc": 15, "lc": 10, "lnr": 5}
    )


def _volt(n: int, name: str, raw: int, m: int, lo: tuple[int, int], hi: tuple[int, int]) -> SensorSpec:
    th = {"lc": lo[0], "lnc": lo[1], "unc": hi[0], "uc": hi[1]}
    return SensorSpec(n, name, VOLT, ENT_BOARD, 1, raw, UNIT_VOLT, m=m, r_exp=-2, thresholds=th)


def _psu(n: int, inst: int) -> SensorSpec:
    # offsets: 0 presence, 1 failure, 2 predictive failure, 3 AC lost
    return SensorSpec(n, f"PSU{inst} Status", PSU, ENT_PSU, inst, states=(0, 1, 2, 3), asserted=(0,))


def _drive(n: int, bay: int) -> SensorSpec:
    # offsets: 0 presence, 1 fault, 2 predictive failure, 7 rebuild in progress
    return SensorSpec(n, f"Drive {bay}", DRIVE, ENT_DISK_BAY, bay + 1, states=(0, 1, 2, 7), asserted=(0,))


def _dimm(n: int, label: str, inst: int) -> SensorSpec:
    # offsets: 0 correctable ECC, 1 uncorrectable ECC, 5 correctable ECC logging limit, 6 presence
    return SensorSpec(n, f"DIMM {label}", MEMORY, ENT_MEM, inst, states=(0, 1, 5, 6), asserted=(6,))


def _power(n: int, raw: int) -> SensorSpec:
    # W = raw * 4; upper non-critical 800 W, critical 900 W.
    return SensorSpec(
        n, "Pwr Consumption", OTHER_UNITS, ENT_BOARD, 1, raw, UNIT_WATT, m=4, thresholds={"unc": 200, "uc": 225}
    )


def _psu_fru(fru_id: int, inst: int, watts: int) -> FruSpec:
    return FruSpec(fru_id, f"PSU{inst}", ENT_PSU, inst, "PowerCo", f"PSU {watts}W", f"PWS-{watts}", f"P{inst}")


LAYOUTS: dict[str, Layout] = {
    "1u": Layout(
        "1u",
        "Acme Servers",
        "Acme R1 1U",
        "R1-1U-100",
        (
            _temp(1, "CPU1 Temp", ENT_PROC, 1, 45, 85, 90, 95),
            _temp(2, "Inlet Temp", ENT_AIR, 1, 22, 35, 40, 45),
            _fan(3, 1, 72),
            _fan(4, 2, 70),
            _psu(5, 1),
            _psu(6, 2),
            _volt(7, "12V", 200, 6, (180, 190), (210, 220)),
            _drive(8, 0),
            _drive(9, 1),
            _dimm(10, "A1", 1),
            _power(11, 60),
        ),
        (_psu_fru(1, 1, 550), _psu_fru(2, 2, 550)),
    ),
    "2u": Layout(
        "2u",
        "Acme Servers",
        "Acme R2 2U",
        "R2-2U-200",
        (
            _temp(1, "CPU1 Temp", ENT_PROC, 1, 48, 85, 90, 95),
            _temp(2, "CPU2 Temp", ENT_PROC, 2, 50, 85, 90, 95),
            _temp(3, "Inlet Temp", ENT_AIR, 1, 21, 35, 40, 45),
            _temp(4, "Exhaust Temp", ENT_AIR, 2, 33, 60, 70, 75),
            *(_fan(4 + i, i, 60 + i) for i in range(1, 7)),
            _psu(11, 1),
            _psu(12, 2),
            _volt(13, "12V", 201, 6, (180, 190), (210, 220)),
            _volt(14, "5V", 167, 3, (150, 158), (175, 183)),
            _volt(15, "3.3V", 165, 2, (149, 157), (173, 182)),
            *(_drive(16 + b, b) for b in range(6)),
            _dimm(22, "A1", 1),
            _dimm(23, "A2", 2),
            _dimm(24, "B1", 3),
            _dimm(25, "B2", 4),
            SensorSpec(26, "CMOS Battery", BATTERY, ENT_BATTERY, 1, states=(0, 1, 2), asserted=(2,)),
            _power(27, 110),
        ),
        (_psu_fru(1, 1, 800), _psu_fru(2, 2, 800)),
    ),
}


# ---------------------------------------------------------------- SDR records (IPMI 2.0 section 43)


def _id_string(name: str) -> bytes:
    raw = name.encode("ascii")[:16]
    return bytes([0xC0 | len(raw)]) + raw  # 8-bit ASCII + Latin-1


def _mask(bits: tuple[int, ...] | list[int]) -> int:
    out = 0
    for b in bits:
        out |= 1 << b
    return out


def full_sensor_record(record_id: int, s: SensorSpec, owner: int = BMC_ADDR) -> bytes:
    """A type 0x01 Full Sensor Record for one sensor."""
    if s.discrete:
        caps = 0x40  # auto re-arm, no thresholds, per-state event control
        reading_type = 0x6F
        states = _mask(s.states)
        assert_mask = deassert_mask = read_mask = states
        units1, base = 0xC0, UNIT_NONE  # no analog reading
        thresholds = [0] * 6
        m = r_exp = 0
    else:
        caps = 0x44  # auto re-arm, thresholds readable
        reading_type = 0x01
        th = s.thresholds
        # assertion events: lnc-low 0, lc-low 2, lnr-low 4, unc-high 7, uc-high 9, unr-high 11; bits 12-14 say
        # which lower (assert mask) / upper (deassert mask) thresholds are compared.
        ev = {"lnc": 0, "lc": 2, "lnr": 4, "unc": 7, "uc": 9, "unr": 11}
        events = _mask([ev[k] for k in th])
        lower = _mask([12 + i for i, k in enumerate(("lnc", "lc", "lnr")) if k in th])
        upper = _mask([12 + i for i, k in enumerate(("unc", "uc", "unr")) if k in th])
        assert_mask, deassert_mask = events | lower, events | upper
        readable = _mask([i for i, k in enumerate(("lnc", "lc", "lnr", "unc", "uc", "unr")) if k in th])
        read_mask = readable  # readable thresholds, none settable
        units1, base = 0x00, s.unit
        thresholds = [th.get(k, 0) for k in THRESHOLD_NAMES]
        m, r_exp = s.m, s.r_exp
    body = bytes(
        [
            owner,
            0,  # LUN 0, channel 0
            s.number,
            s.entity,
            s.instance,
            0x63,  # init scanning + events; event generation and scanning on by default
            caps,
            s.sensor_type,
            reading_type,
            assert_mask & 0xFF,
            assert_mask >> 8,
            deassert_mask & 0xFF,
            deassert_mask >> 8,
            read_mask & 0xFF,
            read_mask >> 8 if s.discrete else 0,
            units1,
            base,
            0,  # modifier unit
            0,  # linear
            m & 0xFF,
            (m >> 8) & 0x03,  # M high bits, tolerance 0
            0,
            0,  # B = 0, accuracy 0
            0,
            ((r_exp & 0x0F) << 4),  # R exponent, B exponent 0
            0,  # no nominal/normal values given
            0,
            0,
            0,
            0xFF,
            0x00,  # sensor max / min raw
            *thresholds,
            0,
            0,  # hysteresis
            0,
            0,
            0,  # reserved, reserved, OEM
        ]
    ) + _id_string(s.name)
    return bytes([record_id & 0xFF, record_id >> 8, 0x51, 0x01, len(body)]) + body


def fru_locator_record(record_id: int, f: FruSpec, owner: int = BMC_ADDR) -> bytes:
    """A type 0x11 FRU Device Locator record (a logical FRU device behind the BMC)."""
    body = bytes([owner, f.fru_id, 0x80, 0, 0, 0x10, 0, f.entity, f.instance, 0]) + _id_string(f.name)
    return bytes([record_id & 0xFF, record_id >> 8, 0x51, 0x11, len(body)]) + body


def mc_locator_record(record_id: int, owner: int = BMC_ADDR) -> bytes:
    """A type 0x12 Management Controller Device Locator (the BMC itself: SEL, SDR, FRU, sensors)."""
    body = bytes([owner, 0, 0, 0xAD, 0, 0, 0, ENT_BOARD, 1, 0]) + _id_string("BMC")
    return bytes([record_id & 0xFF, record_id >> 8, 0x51, 0x12, len(body)]) + body


def sdr_records(layout: Layout) -> list[bytes]:
    records = [mc_locator_record(1)]
    records += [full_sensor_record(len(records) + 1 + i, s) for i, s in enumerate(layout.sensors)]
    records += [fru_locator_record(len(records) + 1 + i, f) for i, f in enumerate(layout.frus)]
    return records


# ---------------------------------------------------------------- FRU data (Platform Management FRU spec 1.0)


def _tl(text: str) -> bytes:
    raw = text.encode("ascii")
    return bytes([0xC0 | len(raw)]) + raw


def _area(body: bytes) -> bytes:
    data = bytearray(body) + b"\xc1"  # end of fields
    while (len(data) + 1) % 8:
        data.append(0)
    data[1] = (len(data) + 1) // 8
    data.append(-sum(data) & 0xFF)
    return bytes(data)


def fru_image(board: bytes | None, product: bytes | None) -> bytes:
    """Common header + optional board and product areas."""
    offsets, out, at = [], b"", 1
    for area in (board, product):
        if area is None:
            offsets.append(0)
            continue
        offsets.append(at)
        out += area
        at += len(area) // 8
    header = bytearray([1, 0, 0, offsets[0], offsets[1], 0, 0])
    header.append(-sum(header) & 0xFF)
    return bytes(header) + out


def board_area(manufacturer: str, name: str, serial: str, part: str) -> bytes:
    # language 0, manufacturing date 0 ("unspecified")
    return _area(bytes([1, 0, 0, 0, 0, 0]) + _tl(manufacturer) + _tl(name) + _tl(serial) + _tl(part) + _tl(""))


def product_area(manufacturer: str, name: str, part: str, serial: str, asset: str = "") -> bytes:
    fields = _tl(manufacturer) + _tl(name) + _tl(part) + _tl("1.0") + _tl(serial) + _tl(asset) + _tl("")
    return _area(bytes([1, 0, 0]) + fields)


def serials(layout: Layout, index: int) -> dict[int, str]:
    """The product serial number of every FRU of BMC number `index` (FRU 0 is the server)."""
    out = {0: f"{layout.name.upper()}S{index:06d}"}
    for f in layout.frus:
        out[f.fru_id] = f"{f.serial_prefix}{layout.name.upper()}{index:05d}"
    return out


def fru_images(layout: Layout, index: int) -> dict[int, bytes]:
    sn = serials(layout, index)
    images = {
        0: fru_image(
            board_area(layout.manufacturer, "Mainboard", f"MB{index:07d}", f"{layout.part_number}-MB"),
            product_area(layout.manufacturer, layout.product, layout.part_number, sn[0], f"ASSET-{index:04d}"),
        )
    }
    for f in layout.frus:
        images[f.fru_id] = fru_image(None, product_area(f.manufacturer, f.product, f.part_number, sn[f.fru_id]))
    return images


# ---------------------------------------------------------------- emu command file and LAN config


def _hex(data: bytes) -> str:
    return " ".join(f"0x{b:02x}" for b in data)


def _bits(mask: int) -> str:
    return format(mask, "015b")  # ipmi_sim wants 15 characters, rightmost is bit 0


def emu_text(layout: Layout, index: int) -> str:
    a = f"0x{BMC_ADDR:02x}"
    lines = [
        f"# ipmi_sim commands for one simulated {layout.product} (generated by fleet.sim.ipmi_sim)",
        f"mc_setbmc {a}",
        # ipmb, device id, has-device-sdrs, device rev, fw major, fw minor, IPMI support bits, IANA, product id
        f"mc_add {a} 0x00 no-device-sdrs 0x01 0x01 0x02 0x9f 0x{0xAC3E:06x} 0x{0x0100 + len(layout.sensors):04x}",
        f"sel_enable {a} 1000 0x0a",
    ]
    lines += [f"main_sdr_add {a} {_hex(r)}" for r in sdr_records(layout)]
    for s in layout.sensors:
        n = s.number
        reading_type = "0x6f" if s.discrete else "0x01"
        lines.append(f"sensor_add {a} 0 {n} 0x{s.sensor_type:02x} {reading_type}")
        if s.discrete:
            m = _bits(_mask(s.states))
            lines.append(f"sensor_set_event_support {a} 0 {n} enable scanning per-state {m} {m} {m} {m}")
            for bit in s.states:
                lines.append(f"sensor_set_bit {a} 0 {n} {bit} {int(bit in s.asserted)} 0")
        else:
            flags = "".join("1" if k in s.thresholds else "0" for k in THRESHOLD_NAMES)
            values = " ".join(f"0x{s.thresholds.get(k, 0):02x}" for k in THRESHOLD_NAMES)
            lines.append(f"sensor_set_threshold {a} 0 {n} readable {flags} {values}")
            ev = {"lnc": 0, "lc": 2, "lnr": 4, "unc": 7, "uc": 9, "unr": 11}
            m = _bits(_mask([ev[k] for k in s.thresholds]))
            lines.append(f"sensor_set_event_support {a} 0 {n} enable scanning per-state {m} {m} {m} {m}")
            lines.append(f"sensor_set_value {a} 0 {n} 0x{s.raw:02x} 0")
    for fru_id, image in fru_images(layout, index).items():
        lines.append(f"mc_add_fru_data {a} {fru_id} 256 data {_hex(image)}")
    lines.append(f"mc_enable {a}")
    return "\n".join(lines) + "\n"


CHASSIS_STUB = """#!/bin/sh
# chassis_control for ipmi_sim: the power state lives in a file, there is no machine behind it.
# called as: STUB STATEFILE get power ... | STUB STATEFILE set power 0|1 ...
f=$1; op=$2; shift 2
case $op in
  get) for p in "$@"; do
         case $p in
           power) printf 'power:%s\\n' "$(cat "$f" 2>/dev/null || echo 1)";;
           boot) echo "boot:default";;
           *) echo "Invalid parameter: $p"; exit 1;;
         esac
       done;;
  set) while [ $# -ge 2 ]; do [ "$1" = power ] && echo "$2" > "$f"; shift 2; done;;
  *) exit 1;;
esac
"""


def lan_conf_text(name: str, port: int, console_port: int, password: str, chassis_stub: Path, power_file: Path) -> str:
    # Loopback only: the LAN channel and the console both bind 127.0.0.1.
    return f"""name "{name}"
set_working_mc 0x{BMC_ADDR:02x}
  startlan 1
    addr 127.0.0.1 {port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user md2 md5 straight
    allowed_auths_operator md2 md5 straight
    allowed_auths_admin md2 md5 straight
    guid {port:032x}
  endlan
  user 2 true "{USER}" "{password}" admin 10 md2 md5 straight
  chassis_control "{chassis_stub} {power_file}"
console 127.0.0.1 {console_port}
"""


@dataclass(frozen=True)
class SimFiles:
    directory: Path
    lan_conf: Path
    emu: Path
    state: Path
    port: int
    console_port: int

    def argv(self, ipmi_sim: str = "ipmi_sim") -> list[str]:
        # -n: no stdin console, -p: no persistence (each start is a fresh SEL)
        return [ipmi_sim, "-n", "-p", "-c", str(self.lan_conf), "-f", str(self.emu), "-s", str(self.state)]


def write_bmc(
    directory: Path, layout: Layout, index: int, port: int, console_port: int, password: str, power_on: bool = True
) -> SimFiles:
    """Write everything one `ipmi_sim` needs into `directory` (created). Returns the paths and its argv."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "state").mkdir(exist_ok=True)
    stub = directory / "chassis.sh"
    stub.write_text(CHASSIS_STUB)
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    power = directory / "power"
    power.write_text("1\n" if power_on else "0\n")
    lan = directory / "lan.conf"
    lan.write_text(lan_conf_text(f"{layout.name}-{index}", port, console_port, password, stub, power))
    lan.chmod(0o600)  # it holds the password
    emu = directory / "bmc.emu"
    emu.write_text(emu_text(layout, index))
    return SimFiles(directory, lan, emu, directory / "state", port, console_port)


def console(port: int, *commands: str, timeout: float = 10.0) -> str:
    """Send emu commands to a running simulator's TCP console on 127.0.0.1 (fault injection).

    Returns once the simulator has executed all of them: the console runs lines in order, so the answer to a last,
    unknown command proves the ones before it ran. Raises TimeoutError if that answer does not come.
    """
    marker = "fleet_console_marker"
    answer = f"Unknown command: {marker}".encode()
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall("".join(c + "\n" for c in (*commands, marker)).encode())
        deadline = time.monotonic() + timeout
        prompt_by: float | None = None
        s.settimeout(0.2)
        while True:
            at = out.find(answer)
            # Done once the prompt after the answer is read too: the simulator writes nothing more, so closing now
            # cannot make it write to a closed connection (ipmi_sim does not ignore SIGPIPE). A simulator that
            # prints no prompt is given half a second.
            if at >= 0 and (b"> " in out[at:] or (prompt_by is not None and time.monotonic() > prompt_by)):
                break
            if at >= 0 and prompt_by is None:
                prompt_by = time.monotonic() + 0.5
            if time.monotonic() > deadline:
                raise TimeoutError(f"simulator console on port {port} did not confirm the commands")
            try:
                chunk = s.recv(4096)
            except TimeoutError:
                continue
            if not chunk:
                raise ConnectionError(f"simulator console on port {port} closed")
            out += chunk
    return out.decode(errors="replace")


# IPMI 1.5 session-less Get Channel Authentication Capabilities (channel 0x0e = this one, admin), in RMCP.
_GET_AUTH_CAPS = bytes.fromhex("0600ff07" + "00" + "00000000" + "00000000" + "09" + "2018c88100388e04b5")


def answers(port: int, timeout: float = 0.3) -> bool:
    """Whether an IPMI LAN interface answers on 127.0.0.1:port (the simulator, not whoever else took the port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(timeout)
        s.sendto(_GET_AUTH_CAPS, ("127.0.0.1", port))
        try:
            data = s.recv(512)
        except OSError:
            return False
    return data[:4] == b"\x06\x00\xff\x07"
