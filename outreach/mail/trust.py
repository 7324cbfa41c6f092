"""Whether an email is provably from the address in its From header: a DKIM signature whose domain
aligns with the From domain (verified with dkimpy), or an Authentication-Results header (parsed with
authres) written by a gateway we trust (EMAIL_TRUSTED_AUTHSERV_IDS, or the mailbox's own IMAP
server) that says DKIM or DMARC passed for that domain. Without it, From is only a claim: a reply
may still be read, but it grants nothing by itself (outreach.inbound.consent)."""

import logging
from dataclasses import dataclass
from email.message import EmailMessage

import authres
import dkim
from django.conf import settings

logger = logging.getLogger(__name__)

# The DNS lookup dkimpy uses for public keys; None is its own (dnspython). Tests set a stub here.
dns_lookup = None


@dataclass(frozen=True)
class Trust:
    authenticated: bool
    how: str  # "dkim d=example.com", "authserv mx.example: dkim=pass", or why not


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment (DMARC): the same domain, or one is a subdomain of the other."""
    domain, from_domain = domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    return bool(domain) and (
        domain == from_domain or from_domain.endswith("." + domain) or domain.endswith("." + from_domain)
    )


def authenticity(raw: bytes, message: EmailMessage, from_address: str, trusted_ids=()) -> Trust:
    from_domain = from_address.rpartition("@")[2]
    trusted = {i.lower() for i in (*settings.EMAIL_TRUSTED_AUTHSERV_IDS, *trusted_ids) if i}
    for header in message.get_all("Authentication-Results") or []:
        verdict = _gateway_verdict(str(header), trusted, from_domain)
        if verdict:
            return Trust(True, verdict)
    signed = _dkim_domains(raw, from_domain)
    if signed:
        return Trust(True, f"dkim d={signed}")
    if message.get("DKIM-Signature"):
        return Trust(False, "the DKIM signature does not verify or is not aligned with From")
    return Trust(False, "no DKIM signature and no trusted Authentication-Results")


def _gateway_verdict(header: str, trusted: set[str], from_domain: str) -> str:
    try:
        parsed = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + header)
    except Exception:  # authres raises its own syntax errors; a header we cannot read proves nothing
        return ""
    if parsed.authserv_id.lower() not in trusted:
        return ""
    for result in parsed.results:
        if result.result.lower() != "pass":
            continue
        method = result.method.lower()
        domain = ""
        for prop in result.properties:
            if (method, prop.type, prop.name) in {("dkim", "header", "d"), ("dmarc", "header", "from")}:
                domain = prop.value
        if method in {"dkim", "dmarc"} and aligned(domain, from_domain):
            return f"authserv {parsed.authserv_id}: {method}=pass for {domain}"
    return ""


def _dkim_domains(raw: bytes, from_domain: str) -> str:
    """The domain of the first DKIM signature that verifies and aligns with From, or ""."""
    try:
        verifier = dkim.DKIM(raw)
    except dkim.DKIMException as error:  # headers dkimpy cannot read prove nothing
        logger.info("DKIM: message not readable: %s", error)
        return ""
    count = len([1 for name, _ in verifier.headers if name.lower() == b"dkim-signature"])
    kwargs = {"dnsfunc": dns_lookup} if dns_lookup is not None else {}
    for index in range(count):
        try:
            ok = verifier.verify(idx=index, **kwargs)
        except dkim.DKIMException as error:
            logger.info("DKIM signature %s not verified: %s", index, error)
            continue
        domain = (verifier.domain or b"").decode(errors="replace")
        if ok and aligned(domain, from_domain):
            return domain
    return ""
