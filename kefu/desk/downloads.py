"""A ticket attachment as a download: the web page, the API and the customer portal answer
with the same response (the original name, never rendered inline, no type sniffing)."""

from __future__ import annotations

from django.http import FileResponse

from kefu.desk.models import TicketAttachment


def attachment_response(attachment: TicketAttachment) -> FileResponse:
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
