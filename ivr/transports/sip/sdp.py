"""SDP offer/answer (RFC 3264) for one audio stream: G.711 PCMU or PCMA at
8 kHz, ptime 20, plus RFC 4733 telephone-events when the caller offers them.

The offer is parsed by sippy's ``SdpBody``; the answer is written here (it is
a handful of fixed lines)."""
from __future__ import annotations

import time
from dataclasses import dataclass

from ivr.errors import ProtocolError

PCMU, PCMA = 0, 8
CODECS = {PCMU: "PCMU", PCMA: "PCMA"}
STATIC = {"PCMU": PCMU, "PCMA": PCMA}
PTIME_MS = 20


@dataclass(frozen=True)
class MediaOffer:
    """What the far end wants: where to send RTP and in which formats."""

    address: str
    port: int
    payload_types: tuple[int, ...]
    names: dict[int, str]          # payload type -> encoding name (upper case), from rtpmap or static
    direction: str = "sendrecv"    # sendrecv | sendonly | recvonly | inactive (hold)

    @property
    def on_hold(self) -> bool:
        return self.direction in ("sendonly", "inactive") or self.address in ("0.0.0.0", "::")


@dataclass(frozen=True)
class MediaAnswer:
    codec: int                     # PCMU or PCMA
    event_pt: int | None           # telephone-event payload type, when both sides have it
    direction: str = "sendrecv"


def parse_offer(text: str) -> MediaOffer:
    """The first audio stream of an SDP body; ``ProtocolError`` naming what is wrong."""
    from ivr.transports.sip.stack import Reactor

    Reactor.ensure()  # sippy's event loop must be made on its own thread before sippy is imported
    from sippy.SdpBody import SdpBody  # type: ignore[import-untyped]

    try:
        body = SdpBody(text)
    except Exception as e:
        raise ProtocolError(f"unparsable SDP ({type(e).__name__}: {str(e)[:80]})", "sip sdp") from None
    session_c = getattr(body, "c_header", None)
    for sect in body.sections:
        m = sect.m_header
        if m is None or str(getattr(m, "stype", "")).lower() != "audio" or not m.port:
            continue
        c = sect.c_header or session_c
        if c is None:
            raise ProtocolError("audio stream without a c= address", "sip sdp")
        names: dict[int, str] = {v: k for k, v in STATIC.items()}
        direction = "sendrecv"
        for a in list(body.a_headers or []) + list(sect.a_headers):
            if a.name == "rtpmap" and a.value:
                pt, _, enc = a.value.partition(" ")
                if pt.isdigit():
                    names[int(pt)] = enc.split("/")[0].upper()
            elif a.name in ("sendrecv", "sendonly", "recvonly", "inactive"):
                direction = a.name
        return MediaOffer(str(c.addr), int(m.port), tuple(int(f) for f in m.formats if str(f).isdigit()),
                          names, direction)
    raise ProtocolError("no audio stream in the offer", "sip sdp")


def negotiate(offer: MediaOffer) -> MediaAnswer:
    """The caller's first G.711 choice; ``ProtocolError`` if it offers neither (488)."""
    codec = next((pt for pt in offer.payload_types if offer.names.get(pt) in CODECS.values()), None)
    if codec is None:
        raise ProtocolError(f"no PCMU/PCMA among offered formats {list(offer.payload_types)}", "sip sdp")
    codec = STATIC[offer.names[codec]]
    event = next((pt for pt in offer.payload_types if offer.names.get(pt) == "TELEPHONE-EVENT"), None)
    reply = {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}.get(offer.direction, "sendrecv")
    return MediaAnswer(codec, event, reply)


def answer_sdp(answer: MediaAnswer, address: str, port: int, session_id: int | None = None,
               version: int = 1) -> str:
    sid = session_id if session_id is not None else int(time.time())
    fmts = [str(answer.codec)] + ([str(answer.event_pt)] if answer.event_pt is not None else [])
    lines = [
        "v=0", f"o=ivr {sid} {version} IN IP4 {address}", "s=ivr", f"c=IN IP4 {address}", "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(fmts)}",
        f"a=rtpmap:{answer.codec} {CODECS[answer.codec]}/8000",
    ]
    if answer.event_pt is not None:
        lines += [f"a=rtpmap:{answer.event_pt} telephone-event/8000", f"a=fmtp:{answer.event_pt} 0-16"]
    lines += [f"a=ptime:{PTIME_MS}", f"a={answer.direction}"]
    return "\r\n".join(lines) + "\r\n"


def offer_sdp(address: str, port: int, event_pt: int = 101, session_id: int | None = None) -> str:
    """Our offer (outbound calls): PCMU, PCMA, telephone-event."""
    sid = session_id if session_id is not None else int(time.time())
    return "\r\n".join([
        "v=0", f"o=ivr {sid} 1 IN IP4 {address}", "s=ivr", f"c=IN IP4 {address}", "t=0 0",
        f"m=audio {port} RTP/AVP {PCMU} {PCMA} {event_pt}",
        f"a=rtpmap:{PCMU} PCMU/8000", f"a=rtpmap:{PCMA} PCMA/8000",
        f"a=rtpmap:{event_pt} telephone-event/8000", f"a=fmtp:{event_pt} 0-16",
        f"a=ptime:{PTIME_MS}", "a=sendrecv"]) + "\r\n"
