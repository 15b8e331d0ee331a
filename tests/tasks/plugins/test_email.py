"""Kestra's MailSend and MailExecution against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import base64
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest

from engine.core.errors import InvalidFlowError
from tests.conftest import Engine, require_in_ci

CSV = b"id,name\n1,ada\n2,grace\n"


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    """What the SMTP server received, and the logins it was offered."""

    port: int
    delivered: list[Delivered] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    def only(self, subject: str) -> Delivered:
        found = [d for d in self.delivered if d.message["Subject"] == subject]
        assert len(found) == 1, [d.message["Subject"] for d in self.delivered]
        return found[0]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def mailbox() -> Iterator[Mailbox]:
    try:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword
    except ImportError:
        require_in_ci("aiosmtpd is not installed (pip install -e '.[test]')")
    box = Mailbox(_free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
            assert isinstance(message, EmailMessage)
            box.delivered.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos), message))
            return "250 Message accepted for delivery"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        box.logins.append((login, password))
        # handled=False: aiosmtpd answers 535 itself (True leaves the client waiting)
        return AuthResult(success=password == "s3cret", handled=False)

    controller = Controller(Handler(), hostname="127.0.0.1", port=box.port, authenticator=authenticator,
                            auth_require_tls=False, auth_required=False)
    controller.start()
    yield box
    controller.stop()


def _server(mailbox: Mailbox, strategy: str = "SMTP") -> str:
    return (f"    host: 127.0.0.1\n    port: {mailbox.port}\n    transportStrategy: {strategy}\n"
            f"    from: Kestra <alerts@kestra.test>\n")


def _write(task_id: str, content: bytes, extension: str) -> str:
    text = content.decode("latin-1").replace("\n", "\\n")
    return (f"  - id: {task_id}\n    type: io.kestra.plugin.core.storage.Write\n"
            f"    extension: {extension}\n    content: \"{text}\"\n")


def test_mail_send_delivers_bodies_headers_and_an_attachment_from_storage(engine: Engine,
                                                                          mailbox: Mailbox) -> None:
    result = engine.run("id: report\nnamespace: company.team\ntasks:\n" + _write("csv", CSV, ".csv") + f"""
  - id: mail
    type: io.kestra.plugin.email.MailSend
{_server(mailbox)}    username: robot
    password: s3cret
    to: "ada@example.test; Grace <grace@example.test>"
    cc: ops@example.test
    subject: "Report for {{{{ flow.id }}}}"
    htmlTextContent: "<p>Report of <b>{{{{ flow.namespace }}}}</b></p>"
    plainTextContent: "Report of {{{{ flow.namespace }}}}"
    attachments:
      - name: people.csv
        uri: "{{{{ outputs.csv.uri }}}}"
        contentType: text/csv
""")
    assert result.state == "SUCCESS", result.logs()
    got = mailbox.only("Report for report")
    assert got.mail_from == "alerts@kestra.test"
    assert got.rcpt_tos == ["ada@example.test", "grace@example.test", "ops@example.test"]
    assert ("robot", "s3cret") in mailbox.logins
    message = got.message
    assert message["From"] == "Kestra <alerts@kestra.test>"
    assert message["To"] == "ada@example.test, Grace <grace@example.test>"
    assert message["Cc"] == "ops@example.test"
    assert message["Return-Receipt-To"] == "Kestra <alerts@kestra.test>"
    assert message["Message-ID"] and message["Date"]
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and plain.get_content().rstrip("\r\n") == "Report of company.team"
    assert html is not None and html.get_content().rstrip("\r\n") == "<p>Report of <b>company.team</b></p>"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "people.csv"
    assert attachment.get_content_type() == "text/csv"
    assert attachment.get_payload(decode=True) == CSV
    assert "Email sent to ada@example.test, grace@example.test, ops@example.test" in result.logs("mail")


def test_mail_send_attachments_given_as_a_json_string_and_embedded_images(engine: Engine,
                                                                           mailbox: Mailbox) -> None:
    result = engine.run("id: images\nnamespace: company.team\ntasks:\n" + _write("csv", CSV, ".csv") + f"""
  - id: mail
    type: io.kestra.plugin.notifications.mail.MailSend
{_server(mailbox)}    to: ada@example.test
    subject: images
    htmlTextContent: '<img src="cid:logo.png">'
    attachments: '[{{"name": "a.csv", "uri": "{{{{ outputs.csv.uri }}}}"}}]'
    embeddedImages:
      - name: logo.png
        uri: "{{{{ outputs.csv.uri }}}}"
        contentType: image/png
""")
    assert result.state == "SUCCESS", result.logs()
    message = mailbox.only("images").message
    plain = message.get_body(("plain",))
    assert plain is not None and plain.get_content().rstrip("\r\n") == "Please view this email in a modern email client"
    related = [part for part in message.walk() if part.get_content_type() == "multipart/related"]
    assert len(related) == 1, "the image travels with the HTML it belongs to"
    [image] = [part for part in related[0].iter_parts() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<logo.png>"
    assert image.get_payload(decode=True) == CSV
    [attachment] = list(message.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content_type()) == ("a.csv", "application/octet-stream")
    assert attachment.get_payload(decode=True) == CSV


def test_mail_send_refused_login_fails_with_the_servers_answer(engine: Engine, mailbox: Mailbox) -> None:
    result = engine.run(f"""id: badlogin
namespace: company.team
tasks:
  - id: mail
    type: io.kestra.plugin.email.MailSend
{_server(mailbox)}    username: robot
    password: wrong
    to: ada@example.test
    subject: never
""")
    assert result.state == "FAILED"
    [error] = result.logs("mail", "ERROR")
    assert error.startswith(f"the SMTP server 127.0.0.1:{mailbox.port} (SMTP) refused the login of 'robot': 535")
    assert "check 'username' and 'password'" in error
    assert not [d for d in mailbox.delivered if d.message["Subject"] == "never"]


def test_mail_send_smtps_default_against_a_plain_server_fails_saying_tls(engine: Engine, mailbox: Mailbox) -> None:
    result = engine.run(f"""id: smtps
namespace: company.team
tasks:
  - id: mail
    type: io.kestra.plugin.email.MailSend
    host: 127.0.0.1
    port: {mailbox.port}
    from: alerts@kestra.test
    to: ada@example.test
""")
    assert result.state == "FAILED"
    [error] = result.logs("mail", "ERROR")
    assert error.startswith(f"TLS with 127.0.0.1:{mailbox.port} (SMTPS) failed")


def test_mail_send_to_a_closed_port_fails_naming_host_and_port(engine: Engine) -> None:
    result = engine.run("""id: closed
namespace: company.team
tasks:
  - id: mail
    type: io.kestra.plugin.email.MailSend
    host: 127.0.0.1
    port: 9
    transportStrategy: SMTP_TLS
    from: alerts@kestra.test
    to: ada@example.test
""")
    assert result.state == "FAILED"
    [error] = result.logs("mail", "ERROR")
    assert error.startswith("cannot send the email through 127.0.0.1:9 (SMTP_TLS)")


def test_mail_send_without_recipient_or_with_an_unknown_strategy_is_refused_at_load(engine: Engine) -> None:
    with pytest.raises(InvalidFlowError) as raised:
        engine.load("""id: invalid
namespace: company.team
tasks:
  - id: mail
    type: io.kestra.plugin.email.MailSend
    host: 127.0.0.1
    from: alerts@kestra.test
    transportStrategy: STARTTLS
""")
    text = str(raised.value)
    assert "'to' is required to send an email" in text
    assert "'transportStrategy' must be one of SMTP, SMTPS, SMTP_TLS, SMTP_OAUTH2, not 'STARTTLS'" in text


def test_mail_send_attachment_missing_its_uri_fails_naming_the_property(engine: Engine, mailbox: Mailbox) -> None:
    result = engine.run(f"""id: nouri
namespace: company.team
tasks:
  - id: mail
    type: io.kestra.plugin.email.MailSend
{_server(mailbox)}    to: ada@example.test
    subject: nouri
    attachments:
      - name: a.csv
""")
    assert result.state == "FAILED"
    assert result.logs("mail", "ERROR") == ["property 'attachments[0].uri' is required"]


def test_mail_execution_emails_the_summary_of_a_failed_execution(engine: Engine, mailbox: Mailbox) -> None:
    failed = engine.run("""id: unreliable
namespace: company.team
tasks:
  - id: boom
    type: io.kestra.plugin.core.execution.Fail
""")
    assert failed.state == "FAILED"
    eid = failed.execution.id
    result = engine.run(f"""id: alert
namespace: company.team
inputs:
  - id: id
    type: STRING
tasks:
  - id: mail
    type: io.kestra.plugin.email.MailExecution
{_server(mailbox)}    to: ops@example.test
    subject: "Execution {{{{ inputs.id }}}} failed"
    executionId: "{{{{ inputs.id }}}}"
    customMessage: "Please <look>"
    customFields:
      Team: data
""", {"id": eid})
    assert result.state == "SUCCESS", result.logs()
    message = mailbox.only(f"Execution {eid} failed").message
    html = message.get_body(("html",))
    assert html is not None
    content = html.get_content()
    assert "[company.team] unreliable ➛ <span style=\"color: red;\">FAILED</span>" in content
    assert "<p>Please &lt;look&gt;</p>" in content
    assert re.search(r"<p>Failed on task <code>boom</code>  after \d\d:\d\d:\d\d\.\d{3}</p>", content)
    assert f"<code>roost execution {eid}</code>" in content
    for fact in ("<strong>Namespace :</strong> company.team", "<strong>Flow :</strong> unreliable",
                 f"<strong>Execution :</strong> {eid}", "<strong>Status :</strong> FAILED",
                 "<strong>Final task ID :</strong> boom", "<strong>Team :</strong> data"):
        assert fact in content
    plain = message.get_body(("plain",))
    assert plain is not None and plain.get_content().rstrip("\r\n") == "Please view this email in a modern email client"


# --- TLS: STARTTLS (SMTP_TLS) and TLS from the first byte (SMTPS) -------------------------------

@dataclass
class TlsServers:
    starttls_port: int
    smtps_port: int
    delivered: list[Delivered] = field(default_factory=list)
    tls_sessions: list[bool] = field(default_factory=list)
    oauth_tokens: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def tls_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServers]:
    import shutil
    import ssl
    import subprocess

    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        require_in_ci("aiosmtpd is not installed (pip install -e '.[test]')")
    if shutil.which("openssl") is None:
        require_in_ci("the openssl command makes the test certificate (Debian: apt-get install openssl)")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    servers = TlsServers(_free_port(), _free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
            assert isinstance(message, EmailMessage)
            servers.delivered.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos), message))
            # STARTTLS sets session.ssl; TLS from the first byte shows on the transport
            servers.tls_sessions.append(session.ssl is not None
                                        or server.transport.get_extra_info("ssl_object") is not None)
            return "250 OK"

        async def auth_XOAUTH2(self, server: Any, args: list[str]) -> Any:  # noqa: N802 - aiosmtpd's naming
            from aiosmtpd.smtp import AuthResult

            servers.oauth_tokens.append(base64.b64decode(args[1]).decode())
            return AuthResult(success=True, handled=False)

    starttls = Controller(Handler(), hostname="127.0.0.1", port=servers.starttls_port, tls_context=context,
                          require_starttls=True)
    smtps = Controller(Handler(), hostname="127.0.0.1", port=servers.smtps_port, ssl_context=context)
    starttls.start()
    smtps.start()
    yield servers
    starttls.stop()
    smtps.stop()


def _tls_flow(flow_id: str, port: int, strategy: str, extra: str = "") -> str:
    return f"""id: {flow_id}
namespace: company.team
tasks:
  - id: mail
    type: io.kestra.plugin.email.MailSend
    host: 127.0.0.1
    port: {port}
    transportStrategy: {strategy}
    from: alerts@kestra.test
    to: ada@example.test
    subject: {flow_id}
{extra}"""


def test_mail_send_smtp_tls_upgrades_with_starttls_when_the_host_is_trusted(engine: Engine,
                                                                             tls_servers: TlsServers) -> None:
    result = engine.run(_tls_flow("starttls", tls_servers.starttls_port, "SMTP_TLS",
                                  "    trustedHosts:\n      - 127.0.0.1\n"))
    assert result.state == "SUCCESS", result.logs()
    [index] = [i for i, d in enumerate(tls_servers.delivered) if d.message["Subject"] == "starttls"]
    assert tls_servers.tls_sessions[index] is True


def test_mail_send_smtp_tls_refuses_a_certificate_it_cannot_verify(engine: Engine,
                                                                    tls_servers: TlsServers) -> None:
    result = engine.run(_tls_flow("untrusted", tls_servers.starttls_port, "SMTP_TLS"))
    assert result.state == "FAILED"
    [error] = result.logs("mail", "ERROR")
    assert error.startswith(f"TLS with 127.0.0.1:{tls_servers.starttls_port} (SMTP_TLS) failed: "
                            "CERTIFICATE_VERIFY_FAILED")


def test_mail_send_smtps_speaks_tls_from_the_first_byte(engine: Engine, tls_servers: TlsServers) -> None:
    result = engine.run(_tls_flow("smtps", tls_servers.smtps_port, "SMTPS",
                                  "    trustedHosts:\n      - 127.0.0.1\n"))
    assert result.state == "SUCCESS", result.logs()
    [index] = [i for i, d in enumerate(tls_servers.delivered) if d.message["Subject"] == "smtps"]
    assert tls_servers.tls_sessions[index] is True


def test_mail_send_smtp_oauth2_authenticates_with_xoauth2_after_starttls(engine: Engine,
                                                                          tls_servers: TlsServers) -> None:
    result = engine.run(_tls_flow("oauth", tls_servers.starttls_port, "SMTP_OAUTH2",
                                  "    trustedHosts: [127.0.0.1]\n    username: robot@kestra.test\n"
                                  "    accessToken: ya29.token\n"))
    assert result.state == "SUCCESS", result.logs()
    assert "user=robot@kestra.test\x01auth=Bearer ya29.token\x01\x01" in tls_servers.oauth_tokens
    [index] = [i for i, d in enumerate(tls_servers.delivered) if d.message["Subject"] == "oauth"]
    assert tls_servers.tls_sessions[index] is True
