"""The Alfresco connector when things go wrong: faults, bad credentials, tickets, TLS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from connectors.alfresco.connector import AlfrescoConnector
from connectors.base import CrawlLimits
from connectors.errors import ConnectorError
from connectors.models import Checkpoint, CrawlItem, SyncMode
from devtools.alfresco_sim import Faults
from devtools.alfresco_sim.auth import TicketStore
from devtools.alfresco_sim.server import SimulatorHandle, SimulatorServer

from .alfresco_fixtures import (
    Index,
    assert_acls_match_oracle,
    connector,
    crawl,
    sample,
    simulator,
)

CHILDREN = "GET /nodes/{nodeId}/children"
CONTENT = "GET /nodes/{nodeId}/content"


def _crawl_until_error(
    target: AlfrescoConnector, mode: SyncMode = SyncMode.FULL
) -> tuple[list[CrawlItem], ConnectorError]:
    """Every item yielded before the crawl raised, and the error."""
    items: list[CrawlItem] = []
    with pytest.raises(ConnectorError) as caught:
        for item in target.crawl(mode, None, CrawlLimits()):
            items.append(item)
    return items, caught.value


def test_transient_faults_lose_nothing(monkeypatch) -> None:
    with simulator(sample()) as sim:
        target = connector(sim.base_url, monkeypatch, crawl_comments=True, max_retries=8)
        clean = crawl(target)
        rules = [
            sim.faults.add_rule(status=503, rate=0.15, limit=25),
            sim.faults.add_rule(status=429, retry_after_s=0, every=7, limit=10),
            sim.faults.add_rule(kind="reset", every=11, limit=8),
            sim.faults.add_rule(status=500, endpoint=CONTENT, at=(1, 2)),
        ]
        faulty = crawl(target, SyncMode.FORCED_FULL)
        assert all(rule.fired for rule in rules)
        assert not faulty.failures and faulty.checkpoint.complete
        assert faulty.docs == clean.docs


def test_retry_after_is_honoured(monkeypatch) -> None:
    with simulator(sample()) as sim:
        sim.faults.fail_next(
            1, status=429, retry_after_s=1, endpoint="GET /sites/{siteId}/containers"
        )
        started = time.monotonic()
        result = crawl(connector(sim.base_url, monkeypatch))  # backoff itself is 0 in tests
        assert time.monotonic() - started >= 1.0 and result.checkpoint.complete


def test_a_hanging_request_times_out_and_is_retried(monkeypatch) -> None:
    with simulator(sample()) as sim:
        sim.faults.add_rule(kind="timeout", hang_s=3, endpoint=CONTENT, at=(1,))
        result = crawl(connector(sim.base_url, monkeypatch, timeout_seconds=0.3))
        assert not result.failures and result.checkpoint.complete


def test_persistent_5xx_on_a_listing_stops_the_crawl_before_any_deletion(monkeypatch) -> None:
    with simulator(sample()) as sim:
        target = connector(sim.base_url, monkeypatch, max_retries=2)
        sim.faults.add_rule(status=503, endpoint=CHILDREN, every=1)
        items, error = _crawl_until_error(target)
        assert error.code == "source_error" and "503" in error.message
        assert not any(isinstance(i, Checkpoint) and i.complete for i in items)


def test_malformed_answers_are_item_failures(monkeypatch) -> None:
    with simulator(sample()) as sim:
        repo = sim.repository
        marks = repo.landmarks
        target = connector(sim.base_url, monkeypatch, crawl_comments=True, max_retries=1)
        first = crawl(target)
        broken_folder, commented = (
            marks["engineering.security_folder"],
            marks["engineering.commented_file"],
        )
        with repo.lock:
            hidden = {n.id for n in repo.descendants(broken_folder)} & repo.indexable_ids()
        sim.faults.malform(broken_folder, commented)
        second = crawl(target, SyncMode.INCREMENTAL, first.checkpoint)
        assert [f.id for f in second.failures] == [f"alf:{broken_folder}"]
        assert not second.deleted  # what could not be listed is not taken for deleted
        full = crawl(target, SyncMode.FORCED_FULL)
        assert {f"alf:{broken_folder}", f"alf:{commented}"} == {f.id for f in full.failures}
        assert not full.checkpoint.complete  # so the engine deletes nothing either
        assert hidden and not {f"alf:{n}" for n in hidden} & set(full.docs)
        assert f"alf:{commented}" in full.docs  # its content was fine, only comments failed
        sim.faults.clear()
        healed = crawl(target, SyncMode.INCREMENTAL, full.checkpoint)
        assert {f"alf:{n}" for n in hidden} <= set(healed.docs)


def test_search_and_trashcan_outages_do_not_break_an_incremental(monkeypatch) -> None:
    with simulator() as sim:
        repo = sim.repository
        target = connector(sim.base_url, monkeypatch, max_retries=1)
        first = crawl(target)
        index = Index().apply(first.items)
        added = repo.add_file(repo.landmarks["engineering.documentLibrary"], "n.txt", "new")
        repo.delete(repo.landmarks["engineering.pdf"])
        sim.faults.add_rule(status=500, endpoint="POST /search", every=1)
        sim.faults.add_rule(status=500, endpoint="GET /deleted-nodes", every=1)
        second = crawl(target, SyncMode.INCREMENTAL, first.checkpoint)
        index.apply(second.items)
        assert f"alf:{added}" in second.docs
        assert f"alf:{repo.landmarks['engineering.pdf']}" in second.deleted
        assert index.nodes() == repo.indexable_ids() - index.nodes("shared") - _shared(repo)


def _shared(repo) -> set[str]:
    with repo.lock:
        return {n.id for n in repo.descendants(repo.shared_id)}


@pytest.mark.parametrize(("user", "password"), [("admin", "wrong"), ("heidi", "heidi-pw")])
def test_refused_credentials_raise_and_check_explains(monkeypatch, user, password) -> None:
    with simulator(sample()) as sim:
        target = connector(sim.base_url, monkeypatch, user=user, password=password)
        items, error = _crawl_until_error(target)
        assert error.code == "auth_failed" and not items
        assert password not in error.message
        result = target.check()
        assert not result.ok and result.details["code"] == "auth_failed"
        assert "password" in result.message and password not in result.message


def test_missing_site_and_unreachable_host(monkeypatch) -> None:
    with simulator(sample()) as sim:
        target = connector(sim.base_url, monkeypatch, site_ids=["engineering", "nope"])
        result = target.check()
        assert (
            not result.ok
            and result.details["code"] == "site_not_found"
            and "nope" in result.message
        )
        _, error = _crawl_until_error(target)
        assert error.code == "site_not_found"
        # A typo gets the closest site, and the message lists the sites the account can see.
        typo = connector(sim.base_url, monkeypatch, site_ids=["marketting"]).check()
        assert "did you mean 'marketing' for 'marketting'?" in typo.message
        assert "admin can see: engineering, marketing" in typo.message
        assert typo.details["visible_sites"] == ["engineering", "marketing"]
        assert connector(sim.base_url, monkeypatch).check().ok
    gone = connector(sim.base_url, monkeypatch, max_retries=1)  # the server has stopped
    result = gone.check()
    assert not result.ok and result.details["code"] == "unreachable"
    _, error = _crawl_until_error(gone)
    assert error.code == "unreachable"


def test_missing_secret_is_explained(monkeypatch) -> None:
    with simulator(sample()) as sim:
        target = connector(sim.base_url, monkeypatch, secret_ref="env:QUARRY_TEST_NO_SUCH_SECRET")
        result = target.check()
        assert not result.ok and result.details["code"] == "secret_error"


def test_ticket_auth_logs_in_again_when_the_ticket_expires(monkeypatch) -> None:
    with simulator(sample()) as sim:
        target = connector(sim.base_url, monkeypatch, auth="ticket", crawl_comments=True)
        items: list[CrawlItem] = []
        for number, item in enumerate(target.crawl(SyncMode.FULL, None, CrawlLimits())):
            items.append(item)
            if number == 10:
                sim.tickets.expire_all()
        assert isinstance(items[-1], Checkpoint) and items[-1].complete
        assert sim.faults.request_counts()["POST /tickets"] == 2
        assert_acls_match_oracle(sim.repository, Index().apply(items))


# -- TLS ------------------------------------------------------------------------------------


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for 127.0.0.1 signed by it: (ca.pem, cert.pem, key.pem)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Quarry test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture
def tls_simulator(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The simulator behind TLS (it has no TLS option: its listening socket is wrapped here)."""
    ca, cert, key = _certificates(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SimulatorServer(("127.0.0.1", 0), sample(), Faults(), TicketStore())
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    with SimulatorHandle(server, thread) as handle:
        yield handle.base_url.replace("http://", "https://"), ca


def test_tls_is_verified_against_the_configured_ca(monkeypatch, tls_simulator, tmp_path) -> None:
    url, ca = tls_simulator
    trusted = connector(url, monkeypatch, ssl_ca_cert=str(ca), entity_filter=["wiki"])
    assert trusted.check().ok
    assert crawl(trusted).checkpoint.complete
    untrusted = connector(url, monkeypatch, max_retries=0)
    result = untrusted.check()
    assert (
        not result.ok and result.details["code"] == "tls_error" and "ssl_ca_cert" in result.message
    )
    (tmp_path / "other").mkdir()
    other_ca, _, _ = _certificates(tmp_path / "other")
    wrong = connector(url, monkeypatch, ssl_ca_cert=str(other_ca), max_retries=0)
    _, error = _crawl_until_error(wrong)
    assert error.code == "tls_error"
    missing = connector(url, monkeypatch, ssl_ca_cert=str(tmp_path / "absent.pem"))
    assert missing.check().details["code"] == "tls_error"


@pytest.mark.parametrize("hide_total", [False, True])
def test_a_false_has_more_items_loses_nothing_and_deletes_nothing(monkeypatch, hide_total) -> None:
    """A listing that says 'no more pages' too early: the crawl reads on (totalItems, or a read
    past the end, says there is more), so a full pass finds everything and an incremental pass
    deletes nothing it simply did not see."""
    with simulator(sample()) as sim:
        target = connector(sim.base_url, monkeypatch, crawl_comments=True, page_size=3)
        clean = crawl(target)
        rule = sim.faults.add_rule(
            kind="false_end", endpoint=CHILDREN, every=2, limit=6, hide_total=hide_total
        )
        faulty = crawl(target, SyncMode.FORCED_FULL)
        assert rule.fired == 6
        assert faulty.checkpoint.complete and set(faulty.docs) == set(clean.docs)
        sim.faults.clear()
        rule = sim.faults.add_rule(
            kind="false_end", endpoint=CHILDREN, every=2, limit=6, hide_total=hide_total
        )
        incremental = crawl(target, SyncMode.INCREMENTAL, faulty.checkpoint)
        assert rule.fired == 6
        assert not incremental.deleted
