"""Canned replies and macros: variables checked on save and filled in on use, scopes and who
may change what, the reply picker on the ticket page, and macros run all or nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kefu.audit.models import AuditEvent
from kefu.core.exceptions import ApplicationError, Conflict, Forbidden
from kefu.customers.models import Contact
from kefu.desk.models import Ticket, TicketComment
from kefu.org.models import User
from kefu.workspace.models import CannedReply, Macro, Scope
from kefu.workspace.services import (
    MacroInput,
    ReplyInput,
    canned_reply_save,
    macro_run,
    macro_save,
    shared_delete,
)
from kefu.workspace.variables import template_check, template_render

pytestmark = pytest.mark.django_db


def test_an_unknown_variable_is_named_with_the_ones_that_exist() -> None:
    errors = template_check("您好 {客户名称}，{订单金额} 与 {amount} 已核实")
    assert len(errors) == 1
    assert "{订单金额}、{amount}" in errors[0]
    assert "{客户名称}" in errors[0]  # the allowed ones are listed
    assert template_check("{客户名称} {customer_name} {{不是变量}}") == []
    assert template_check("少了一个 {客户名称") != []


def test_variables_are_filled_in_chinese_or_english_names(
    agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    ticket = open_ticket()
    Contact.objects.create(customer=ticket.customer, name="王经理", is_primary=True)
    text = template_render(
        "{联系人}您好，{customer_name}的工单 {工单号} 由{坐席}处理，{{备注}}",
        ticket=ticket,
        user=agent,
    )
    assert text == f"王经理您好，上海海尔空调有限公司的工单 {ticket.number} 由agent处理，{{备注}}"


def test_saving_a_reply_with_an_unknown_variable_is_refused_and_saves_nothing(
    agent: User,
) -> None:
    with pytest.raises(ApplicationError) as refused:
        canned_reply_save(actor=agent, data=ReplyInput(title="致歉", body="{客户} 您好"))
    assert "不认识的变量：{客户}" in refused.value.fields["body"][0]
    assert not CannedReply.objects.exists()


def test_an_agent_keeps_personal_replies_and_a_supervisor_shares_them(
    agent: User, supervisor: User, org: dict[str, Any]
) -> None:
    mine = canned_reply_save(actor=agent, data=ReplyInput(title="问候", body="您好 {客户名称}"))
    assert (mine.scope, mine.owner) == (Scope.PERSONAL, agent)
    assert AuditEvent.objects.filter(object_type="workspace.cannedreply", action="create").exists()
    with pytest.raises(ApplicationError) as not_yours:
        canned_reply_save(actor=agent, data=ReplyInput(title="全员", body="x", scope="everyone"))
    assert "只有主管" in not_yours.value.fields["scope"][0]
    team = canned_reply_save(
        actor=supervisor,
        data=ReplyInput(title="本组", body="x", scope="team", team_id=org["team_a"].pk),
    )
    with pytest.raises(ApplicationError) as other_team:
        canned_reply_save(
            actor=supervisor,
            data=ReplyInput(title="二组", body="x", scope="team", team_id=org["team_b"].pk),
        )
    assert "team_id" in other_team.value.fields
    # the agent may use the team's reply but not change it
    with pytest.raises(Forbidden):
        canned_reply_save(actor=agent, data=ReplyInput(title="改", body="y"), reply=team)
    with pytest.raises(Forbidden):
        shared_delete(actor=supervisor, item=mine)


def test_the_reply_picker_fills_the_reply_box_for_this_ticket(
    agent: User,
    outsider: User,
    open_ticket: Callable[..., Ticket],
    login: Callable[[User], Client],
) -> None:
    ticket = open_ticket()
    reply = canned_reply_save(
        actor=agent, data=ReplyInput(title="受理", body="您好，{客户名称}：已受理 {工单号}。")
    )
    page = login(agent).get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'data-testid="reply-picker"' in page
    assert "受理" in page
    box = login(agent).get(f"/workspace/tickets/{ticket.pk}/reply/?reply={reply.pk}")
    assert box.status_code == 200
    assert 'id="c-body"' in box.content.decode()
    assert f"您好，上海海尔空调有限公司：已受理 {ticket.number}。" in box.content.decode()
    # another agent's personal reply and another team's ticket are not found
    assert (
        login(outsider).get(f"/workspace/tickets/{ticket.pk}/reply/?reply={reply.pk}").status_code
        == 404
    )


def test_a_macro_replies_notes_reprioritises_and_resolves_in_one_go(
    agent: User,
    supervisor: User,
    open_ticket: Callable[..., Ticket],
    working: Callable[[Ticket], Ticket],
) -> None:
    ticket = working(open_ticket())
    reply = canned_reply_save(
        actor=supervisor,
        data=ReplyInput(title="已解决", body="{客户名称}您好，问题已解决。", scope="everyone"),
    )
    macro = macro_save(
        actor=supervisor,
        data=MacroInput(
            title="解答并解决",
            scope="everyone",
            reply_id=reply.pk,
            set_priority="high",
            assign_to_self=True,
            transition_to="resolved",
            note="{坐席} 电话解答",
        ),
    )
    macro_run(actor=agent, macro=macro, ticket=ticket)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority, ticket.assignee_id) == ("resolved", "high", agent.pk)
    comments = list(ticket.comments.values_list("public", "body"))
    assert comments == [(True, "上海海尔空调有限公司您好，问题已解决。"), (False, "agent 电话解答")]
    assert ticket.transitions.last().note == "agent 电话解答"  # type: ignore[union-attr]
    assert AuditEvent.objects.filter(field="macro", object_id=str(ticket.pk)).exists()


def test_a_macro_whose_step_is_refused_changes_nothing(
    agent: User, open_ticket: Callable[..., Ticket]
) -> None:
    # given a new ticket (new → resolved is not a step) and a personal macro
    ticket = open_ticket()
    reply = canned_reply_save(actor=agent, data=ReplyInput(title="答", body="已处理"))
    macro = macro_save(
        actor=agent,
        data=MacroInput(
            title="直接解决", reply_id=reply.pk, set_priority="urgent", transition_to="resolved"
        ),
    )
    with pytest.raises(Conflict):
        macro_run(actor=agent, macro=macro, ticket=ticket)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.priority) == ("new", "normal")
    assert not TicketComment.objects.filter(ticket=ticket).exists()


def test_a_macro_needs_an_action_and_a_shared_macro_no_personal_reply(
    agent: User, supervisor: User
) -> None:
    with pytest.raises(ApplicationError) as empty:
        macro_save(actor=agent, data=MacroInput(title="空"))
    assert "至少要包含一项操作" in empty.value.fields["__all__"][0]
    personal = canned_reply_save(actor=supervisor, data=ReplyInput(title="私", body="x"))
    with pytest.raises(ApplicationError) as shared:
        macro_save(
            actor=supervisor,
            data=MacroInput(title="共享", scope="everyone", reply_id=personal.pk),
        )
    assert "个人的快捷回复" in shared.value.fields["reply_id"][0]
    with pytest.raises(ApplicationError) as bad:
        macro_save(actor=agent, data=MacroInput(title="坏", note="{不存在}", transition_to="x"))
    assert set(bad.value.fields) == {"note", "transition_to"}
    # a reply a macro uses cannot be deleted from under it
    macro_save(actor=supervisor, data=MacroInput(title="用它", reply_id=personal.pk))
    with pytest.raises(Conflict):
        shared_delete(actor=supervisor, item=personal)


def test_the_management_pages_create_edit_and_refuse(
    agent: User, supervisor: User, login: Callable[[User], Client]
) -> None:
    client = login(agent)
    assert client.get("/workspace/replies/").status_code == 200
    bad = client.post(
        "/workspace/replies/new/",
        {"title": "错", "body": "{客户号}", "scope": "personal", "active": "1"},
    )
    assert bad.status_code == 422
    assert "不认识的变量" in bad.content.decode()
    good = client.post(
        "/workspace/replies/new/",
        {"title": "好", "body": "{客户名称}", "scope": "personal", "active": "1"},
    )
    assert good.status_code == 302
    reply = CannedReply.objects.get(title="好")
    assert (
        client.post(
            f"/workspace/replies/{reply.pk}/", {"title": "好2", "body": "x", "scope": "personal"}
        ).status_code
        == 302
    )
    reply.refresh_from_db()
    assert (reply.title, reply.active) == ("好2", False)
    shared = CannedReply.objects.create(title="全员", body="x", scope="everyone")
    assert client.post(f"/workspace/replies/{shared.pk}/delete/").status_code == 403
    assert login(supervisor).post(f"/workspace/replies/{shared.pk}/delete/").status_code == 302
    assert not CannedReply.objects.filter(pk=shared.pk).exists()
    # someone else's personal reply is not found at all
    assert login(supervisor).get(f"/workspace/replies/{reply.pk}/").status_code == 404
    macro = client.post(
        "/workspace/macros/new/",
        {"title": "接手", "scope": "personal", "assign_to_self": "1", "active": "1"},
    )
    assert macro.status_code == 302
    assert Macro.objects.get(title="接手").assign_to_self


def test_running_a_macro_from_the_ticket_page(
    agent: User,
    open_ticket: Callable[..., Ticket],
    login: Callable[[User], Client],
) -> None:
    ticket = open_ticket()
    macro = macro_save(actor=agent, data=MacroInput(title="接手", assign_to_self=True))
    client = login(agent)
    response = client.post(f"/workspace/tickets/{ticket.pk}/macro/", {"macro": str(macro.pk)})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee_id == agent.pk
