"""Kestra's email tasks: MailSend (a message over SMTP) and MailExecution (an execution's summary).

io.kestra.plugin.email.MailSend (alias io.kestra.plugin.notifications.mail.MailSend) builds
its message with Simple Java Mail and sends it with Jakarta Mail; Roost builds the same
message with the stdlib's `email` package and sends it with `smtplib`:
- the HTML and the plain text as alternatives (plain text defaults to "Please view this email
  in a modern email client"), `embeddedImages` as related parts named by their Content-ID
  (`<img src="cid:NAME">`), `attachments` as attachments; both read from internal storage
  (kestra:// URIs) and given as a list of {name, uri, contentType} maps or a JSON string;
- `to` and `cc` hold one or more addresses separated by `;` or `,`; `Return-Receipt-To` is
  the sender, as Kestra's `withReturnReceiptTo()` sets it;
- `transportStrategy`: SMTPS (the default: TLS from the first byte, port 465), SMTP_TLS
  (STARTTLS required, port 587), SMTP (plain, upgraded with STARTTLS when the server offers
  it, port 25), SMTP_OAUTH2 (STARTTLS and XOAUTH2 with `accessToken`, else `password`);
  `verifyServerIdentity` and `trustedHosts` decide how certificates are checked;
- `sessionTimeout` in milliseconds bounds the connection and each exchange (10 s by default).
"""

from __future__ import annotations

import json
import mimetypes
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from html import escape
from typing import Any, ClassVar

from engine.core.errors import TaskFailure
from engine.core.yaml_source import Position
from engine.tasks.base import Task
from engine.tasks.context import TaskContext
from engine.tasks.plugins.execution_summary import ExecutionSummary, load_summary
from engine.tasks.properties import Kind, prop
from engine.tasks.registry import register

STRATEGIES = ("SMTP", "SMTPS", "SMTP_TLS", "SMTP_OAUTH2")
DEFAULT_PORTS = {"SMTP": 25, "SMTPS": 465, "SMTP_TLS": 587, "SMTP_OAUTH2": 587}
PLAIN_TEXT_DEFAULT = "Please view this email in a modern email client"


@dataclass(frozen=True)
class Attachment:
    """One file from internal storage, named as the recipient sees it."""

    name: str
    uri: str
    content_type: str = "application/octet-stream"


def attachment_list(value: Any, prop_name: str) -> list[Attachment]:
    """Kestra's getAttachments: a list of maps, or a JSON string of one map or a list of maps
    (also a JSON string inside a string, as `{{ inputs.files | toJson }}` gives)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        try:
            parsed = json.loads(text)
            if isinstance(parsed, str):
                parsed = json.loads(parsed)
        except json.JSONDecodeError as exc:
            raise TaskFailure(f"property '{prop_name}': not a JSON list of {{name, uri, contentType}} "
                              f"maps ({exc.msg})") from None
        value = [parsed] if isinstance(parsed, dict) else parsed
    if not isinstance(value, list):
        raise TaskFailure(f"property '{prop_name}' must be a list of {{name, uri, contentType}} maps "
                          "or a JSON string of one")
    items: list[Attachment] = []
    for index, item in enumerate(value):
        where = f"{prop_name}[{index}]"
        if not isinstance(item, dict):
            raise TaskFailure(f"property '{where}' must be a map with 'name', 'uri' and 'contentType'")
        for key in ("name", "uri"):
            if not item.get(key):
                raise TaskFailure(f"property '{where}.{key}' is required")
        items.append(Attachment(str(item["name"]), str(item["uri"]),
                                str(item.get("contentType") or "application/octet-stream")))
    return items


def addresses(text: str, prop_name: str) -> list[str]:
    """`a@x; B <b@y>` as a list of mailboxes (Simple Java Mail splits on `;` and `,`)."""
    found = [f"{name} <{addr}>" if name else addr
             for name, addr in getaddresses([text.replace(";", ",")]) if addr]
    for entry in found:
        if "@" not in entry:
            raise TaskFailure(f"property '{prop_name}': '{entry}' is not an email address")
    if not found:
        raise TaskFailure(f"property '{prop_name}' holds no email address")
    return found


@dataclass(frozen=True)
class Server:
    """Where and how to send: every connection property rendered."""

    host: str
    port: int
    strategy: str
    username: str | None
    credential: str | None
    timeout: float
    verify_identity: bool
    trusted_hosts: tuple[str, ...]

    def tls_context(self) -> ssl.SSLContext:
        """Kestra's checks: a trusted host's certificate is taken as is; otherwise verified,
        its name too unless verifyServerIdentity is false."""
        context = ssl.create_default_context()
        if self.host in self.trusted_hosts or (self.strategy == "SMTP" and not self.trusted_hosts):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE   # SMTP's opportunistic STARTTLS trusts any certificate
        elif not self.verify_identity:
            context.check_hostname = False
        return context

    def send(self, message: EmailMessage, sender: str, recipients: list[str]) -> None:
        client: smtplib.SMTP
        if self.strategy == "SMTPS":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.tls_context())
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            client.ehlo()
            if self.strategy != "SMTPS" and (client.has_extn("starttls") or self.strategy != "SMTP"):
                client.starttls(context=self.tls_context())
                client.ehlo()
            if self.strategy == "SMTP_OAUTH2":
                token = f"user={self.username or ''}\x01auth=Bearer {self.credential}\x01\x01"
                client.auth("XOAUTH2", lambda _challenge=None: token, initial_response_ok=True)
            elif self.username:
                client.login(self.username, self.credential or "")
            client.send_message(message, from_addr=sender, to_addrs=recipients)


@dataclass(kw_only=True, eq=False)
class MailFields(Task):
    """MailSend's properties, shared with MailExecution."""

    host: Any = prop(kind=Kind.STRING)
    port: Any = prop(kind=Kind.INT)
    username: Any = prop(kind=Kind.STRING)
    password: Any = prop(kind=Kind.STRING)
    access_token: Any = prop(kind=Kind.STRING)
    transport_strategy: Any = prop("SMTPS", kind=Kind.STRING)
    session_timeout: Any = prop(10000, kind=Kind.INT)
    verify_server_identity: Any = prop(True, kind=Kind.BOOL)
    trusted_hosts: Any = prop(kind=Kind.STRING_LIST)
    from_: Any = prop(kind=Kind.STRING, name="from")
    to: Any = prop(kind=Kind.STRING)
    cc: Any = prop(kind=Kind.STRING)
    subject: Any = prop(kind=Kind.STRING)
    plain_text_content: Any = prop(kind=Kind.STRING)
    attachments: Any = prop(kind=Kind.ANY)
    embedded_images: Any = prop(kind=Kind.ANY)

    def validate(self) -> list[tuple[str | Position, str]]:
        problems: list[tuple[str | Position, str]] = []
        for name, value in (("host", self.host), ("from", self.from_), ("to", self.to)):
            if value is None:
                problems.append((name, f"'{name}' is required to send an email"))
        strategy = self.transport_strategy
        if isinstance(strategy, str) and "{{" not in strategy and strategy.upper() not in STRATEGIES:
            problems.append(("transportStrategy", f"'transportStrategy' must be one of "
                                                  f"{', '.join(STRATEGIES)}, not '{strategy}'"))
        return problems

    # --- building the message ---------------------------------------------------------
    def _files(self, ctx: TaskContext[Task], value: Any, prop_name: str) -> list[tuple[Attachment, bytes]]:
        files = []
        for item in attachment_list(ctx.render(value, prop_name), prop_name):
            path = ctx.storage_path(item.uri)
            try:
                files.append((item, path.read_bytes()))
            except OSError as exc:
                raise TaskFailure(f"property '{prop_name}': cannot read {item.uri} ({exc.strerror})") from None
        return files

    def compose(self, ctx: TaskContext[Task], html: str | None, plain: str) -> tuple[EmailMessage, str, list[str]]:
        """The message, its envelope sender and every recipient (to and cc)."""
        sender = ctx.render_str(self.from_, "from").strip()
        if len(addresses(sender, "from")) != 1:
            raise TaskFailure(f"property 'from' must hold one email address, not '{sender}'")
        to = addresses(ctx.render_str(self.to, "to"), "to")
        cc = addresses(cc_text, "cc") if (cc_text := ctx.render_optional_str(self.cc, "cc")) else []
        message = EmailMessage()
        message["From"] = sender
        message["To"] = ", ".join(to)
        if cc:
            message["Cc"] = ", ".join(cc)
        subject = ctx.render_optional_str(self.subject, "subject")
        if subject is not None:
            message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip("> ") or None)
        message["Return-Receipt-To"] = sender
        message.set_content(plain)
        images = self._files(ctx, self.embedded_images, "embeddedImages")
        if html is not None:
            message.add_alternative(html, subtype="html")
            html_part = next(p for p in message.iter_parts() if p.get_content_type() == "text/html")
            for item, data in images:
                maintype, subtype = _mime(item)
                html_part.add_related(data, maintype=maintype, subtype=subtype, cid=f"<{item.name}>",
                                      filename=item.name, disposition="inline")
        else:
            for item, data in images:
                maintype, subtype = _mime(item)
                message.add_attachment(data, maintype=maintype, subtype=subtype, cid=f"<{item.name}>",
                                       filename=item.name, disposition="inline")
        for item, data in self._files(ctx, self.attachments, "attachments"):
            maintype, subtype = _mime(item)
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=item.name)
        return message, _bare(sender), [_bare(a) for a in to + cc]

    # --- sending ---------------------------------------------------------------------
    def server(self, ctx: TaskContext[Task]) -> Server:
        strategy = (ctx.render_optional_str(self.transport_strategy, "transportStrategy") or "SMTPS").upper()
        if strategy not in STRATEGIES:
            raise TaskFailure(f"property 'transportStrategy' must be one of {', '.join(STRATEGIES)}, "
                              f"not '{strategy}'")
        password = ctx.render_optional_str(self.password, "password")
        credential = password
        if strategy == "SMTP_OAUTH2":
            credential = ctx.render_optional_str(self.access_token, "accessToken") or password
            if credential is None:
                raise TaskFailure("When using SMTP_OAUTH2, either 'accessToken' or 'password' must be provided")
        timeout = ctx.render_int(self.session_timeout, "sessionTimeout")
        if timeout is not None and timeout <= 0:
            raise TaskFailure(f"property 'sessionTimeout' must be a positive number of milliseconds, not {timeout}")
        trusted = tuple(str(h) for h in ctx.render_list(self.trusted_hosts, "trustedHosts"))
        return Server(
            host=ctx.render_str(self.host, "host"),
            port=ctx.render_int(self.port, "port") or DEFAULT_PORTS[strategy],
            strategy=strategy, username=ctx.render_optional_str(self.username, "username"),
            credential=credential, timeout=(timeout if timeout is not None else 10000) / 1000,
            verify_identity=ctx.render_bool(self.verify_server_identity, "verifyServerIdentity"),
            trusted_hosts=trusted,
        )

    def deliver(self, ctx: TaskContext[Task], html: str | None, plain: str) -> None:
        server = self.server(ctx)
        message, sender, recipients = self.compose(ctx, html, plain)
        ctx.debug(f"Sending an email to {', '.join(recipients)}")
        where = f"{server.host}:{server.port} ({server.strategy})"
        try:
            server.send(message, sender, recipients)
        except smtplib.SMTPAuthenticationError as exc:
            raise TaskFailure(f"the SMTP server {where} refused the login of '{server.username}': "
                              f"{exc.smtp_code} {_text(exc.smtp_error)} (check 'username' and 'password')") from None
        except smtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(f"{a} ({c} {_text(e)})" for a, (c, e) in exc.recipients.items())
            raise TaskFailure(f"the SMTP server {where} refused the recipient(s) {refused}") from None
        except smtplib.SMTPSenderRefused as exc:
            raise TaskFailure(f"the SMTP server {where} refused the sender '{exc.sender}': "
                              f"{exc.smtp_code} {_text(exc.smtp_error)} (property 'from')") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise TaskFailure(f"the SMTP server {where} does not support this: {exc} (try another "
                              "'transportStrategy')") from None
        except smtplib.SMTPResponseException as exc:
            raise TaskFailure(f"the SMTP server {where} answered {exc.smtp_code} {_text(exc.smtp_error)}") from None
        except ssl.SSLError as exc:
            raise TaskFailure(f"TLS with {where} failed: {exc.reason or exc} ('transportStrategy' SMTPS "
                              "needs a TLS port such as 465; SMTP_TLS and SMTP use STARTTLS)") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TaskFailure(f"cannot send the email through {where}: {exc or type(exc).__name__} "
                              "(check 'host', 'port' and 'transportStrategy')") from None
        ctx.info(f"Email sent to {', '.join(recipients)}")


def _mime(item: Attachment) -> tuple[str, str]:
    content_type = item.content_type or mimetypes.guess_type(item.name)[0] or "application/octet-stream"
    maintype, _, subtype = content_type.partition("/")
    return maintype, subtype or "octet-stream"


def _bare(mailbox: str) -> str:
    found = getaddresses([mailbox])
    return (found[0][1] if found else "") or mailbox


def _text(error: bytes | str) -> str:
    return error.decode(errors="replace") if isinstance(error, bytes) else str(error)


@register
@dataclass(kw_only=True, eq=False)
class MailSend(MailFields):
    """Sends an email (HTML and/or text, attachments and inline images) through an SMTP server."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.email.MailSend",
                                        "io.kestra.plugin.notifications.mail.MailSend")

    html_text_content: Any = prop(kind=Kind.STRING)

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        html = ctx.render_optional_str(self.html_text_content, "htmlTextContent")
        plain = ctx.render_optional_str(self.plain_text_content, "plainTextContent")
        self.deliver(ctx, html, plain if plain is not None else PLAIN_TEXT_DEFAULT)
        return {}


@register
@dataclass(kw_only=True, eq=False)
class MailExecution(MailFields):
    """Emails an execution's summary: state, duration, the task that failed, its facts."""

    TYPES: ClassVar[tuple[str, ...]] = ("io.kestra.plugin.email.MailExecution",
                                        "io.kestra.plugin.notifications.mail.MailExecution")

    execution_id: Any = prop(kind=Kind.STRING)
    custom_fields: Any = prop(kind=Kind.MAP)
    custom_message: Any = prop(kind=Kind.STRING)
    template_render_map: Any = prop(kind=Kind.MAP)
    html_text_content: Any = prop(kind=Kind.STRING)
    """Accepted, as Kestra hides and replaces it: the summary is the HTML body."""

    def run(self, ctx: TaskContext[Task]) -> dict[str, Any]:
        summary = load_summary(ctx, self.execution_id, self.custom_message, self.custom_fields)
        # Kestra's text template is this one sentence, whatever plainTextContent says.
        self.deliver(ctx, summary_html(summary), PLAIN_TEXT_DEFAULT)
        return {}


def summary_html(summary: ExecutionSummary) -> str:
    """mail-template.hbs.peb's content, without its stylesheet: title and state, the custom
    message, the outcome, a link (or the roost command), then the facts."""
    color = {"SUCCESS": "green", "WARNING": "orange"}.get(summary.state, "red")
    outcome = ("Succeeded" if summary.failed_task_id is None
               else f"Failed on task <code>{escape(summary.failed_task_id)}</code> ")
    parts = [f"<!doctype html>\n<html>\n<head>\n<meta charset=\"UTF-8\">\n"
             f"<title>Flow [{escape(summary.namespace)}] {escape(summary.flow_id)} execution</title>\n"
             f"</head>\n<body>\n",
             f"<p>[{escape(summary.namespace)}] {escape(summary.flow_id)} ➛ "
             f"<span style=\"color: {color};\">{escape(summary.state)}</span></p>\n"]
    if summary.custom_message is not None:
        parts.append(f"<p>{escape(summary.custom_message)}</p>\n")
    parts.append(f"<p>{outcome} after {escape(summary.duration)}</p>\n")
    if summary.link is not None:
        parts.append(f"<p><a href=\"{escape(summary.link)}\" target=\"_blank\">See details</a></p>\n")
    else:
        parts.append(f"<p><code>{escape(summary.roost_command)}</code></p>\n")
    facts = [("Namespace", summary.namespace), ("Flow", summary.flow_id),
             ("Execution", summary.execution_id), ("Status", summary.state)]
    if summary.last_task_id is not None:
        facts.append(("Final task ID", summary.last_task_id))
    facts += [(str(k), str(v)) for k, v in summary.custom_fields.items()]
    parts += [f"<p><strong>{escape(name)} :</strong> {escape(value)}</p>\n" for name, value in facts]
    parts.append("</body>\n</html>\n")
    return "".join(parts)
