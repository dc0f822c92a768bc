"""SIP: ``ivr serve --sip HOST:PORT`` takes calls from a PBX, an SBC or a SIP
trunk (UDP, or TCP: ``tcp.SipTcp``), on sippy's RFC 3261 stack; G.711 RTP, RFC 4733 / SIP INFO DTMF,
blind transfer by REFER with the context ticket in ``User-to-User``; outbound
calls through the ``Dialer`` seam (``SipDialer``, ``ivr dial``)."""
from ivr.transports.sip.call import SipOptions
from ivr.transports.sip.dialer import Dialer, DialResult, SipDialer
from ivr.transports.sip.server import SipServer, sip_transport

__all__ = ["SipServer", "SipOptions", "sip_transport", "Dialer", "DialResult", "SipDialer"]
