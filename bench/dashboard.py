"""Time the supervisor dashboard's data at a million tickets on PostgreSQL.

    createdb -h 127.0.0.1 -U postgres kefu_dashboard_bench
    KEFU_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kefu_dashboard_bench \\
        .venv/bin/python bench/dashboard.py --tickets 1000000 --runs 40

Migrates the database, then (once: skipped when the tickets are there) writes 10 teams of 20
agents with their presence, ``--tickets`` tickets over the past year straight in SQL
(generate_series: 6 % still open, spread over five open states, half of them on a running SLA
clock, 1 % warned, 10 % breached; the rest closed, resolved within three days) and 200,000
calls (a few still ringing). ``--open-sixths 1`` then closes five sixths of the open tickets
for good (1 % open, nearer the project's large seed, where about 0.5 % are open).

Then it calls the dashboard's data as a manager (every team) and as
a supervisor (one team), ``--runs`` times each after one warm-up, first with the KPI cards
cached (the live figures alone) then computed on every call (cache off), and prints the number
of queries of one call, its three slowest and the p50/p95/max in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from kefu.dashboard.selectors import dashboard_data, dashboard_scope  # noqa: E402
from kefu.desk.models import Ticket  # noqa: E402
from kefu.org.models import Department, Membership, Team, User  # noqa: E402
from kefu.org.roles import ROLE_BY_CODE  # noqa: E402
from kefu.routing.models import AgentPresence  # noqa: E402

OPEN = ("new", "open", "in_progress", "pending_customer", "resolved")


def seed(tickets: int) -> None:
    department, _ = Department.objects.get_or_create(code="bench", defaults={"name": "客服部"})
    teams = [
        Team.objects.get_or_create(name=f"看板测试{n:02d}组", department=department)[0]
        for n in range(10)
    ]
    agents = []
    statuses = ["online", "busy", "break", "offline"]
    for n in range(200):
        user, created = User.objects.get_or_create(
            username=f"bench-agent-{n:03d}", defaults={"display_name": f"坐席{n:03d}"}
        )
        if created:
            Membership.objects.create(user=user, team=teams[n % 10])
            AgentPresence.objects.create(user=user, status=statuses[n % 4])
        agents.append(user.pk)
    team_ids = [team.pk for team in teams]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO desk_ticket (
                number, type, channel, priority, status, subject, body, team_id, assignee_id,
                customer_team_id, tier, created_at, updated_at, resolved_at, closed_at,
                first_responded_at, first_response_due, resolution_due, sla_next_check_at,
                paused_total, response_warned, response_breached, response_escalated,
                resolution_warned, resolution_breached, resolution_escalated, sla_breached,
                reopen_count, escalation_level, proposal_round, recovery_status,
                recovery_outcome, decision, idempotency_key, complaint_level, root_cause,
                liability, proposal
            )
            SELECT
                'GDBENCH-' || lpad(i::text, 7, '0'),
                'inquiry', 'phone', 'normal',
                CASE WHEN i %% 100 < 6
                     THEN (ARRAY['new', 'open', 'in_progress', 'pending_customer',
                                 'resolved'])[1 + i %% 5]
                     ELSE 'closed' END,
                '看板测试工单', '',
                (%(teams)s)[1 + i %% 10],
                CASE WHEN i %% 100 < 6 AND (i / 100) %% 10 >= 7 THEN NULL
                     ELSE (%(agents)s)[1 + (i / 100) %% 200] END,
                (%(teams)s)[1 + i %% 10], '',
                created, created, resolved, CASE WHEN i %% 100 >= 6 THEN resolved END,
                created + interval '20 minutes', created + interval '4 hours',
                created + interval '2 days',
                CASE WHEN i %% 100 < 3 THEN now() + (i %% 97) * interval '1 hour' END,
                interval '0', false, false, false,
                i %% 100 < 6 AND i %% 1000 < 10, i %% 100 < 6 AND i %% 100 = 5, false,
                (i %% 100 < 6 AND i %% 100 = 5) OR (i %% 100 >= 6 AND i %% 20 = 0),
                0, 1, 0, '', '', '', '', '', '', '', ''
            FROM (
                SELECT i,
                       now() - (i %% 525600) * interval '1 minute' AS created,
                       CASE WHEN i %% 100 = 4 THEN now() - (i %% 2880) * interval '1 minute'
                            WHEN i %% 100 >= 6 THEN now() - (i %% 525600) * interval '1 minute'
                                 + (i %% 4320) * interval '1 minute' END AS resolved
                FROM generate_series(1, %(n)s) AS i
            ) AS series
            """,
            {"teams": team_ids, "agents": agents, "n": tickets},
        )
        cursor.execute(
            """
            INSERT INTO calls_call (
                call_id, direction, caller, called, queue, agent_ref, status, offered_at,
                answered_at, ended_at, outcome, out_of_hours, created_at, updated_at
            )
            SELECT 'bench-' || i, 'inbound', '+86138' || lpad(i::text, 8, '0'), '', '', '',
                CASE WHEN i <= 5 THEN 'ringing' ELSE 'ended' END,
                now() - i * interval '2 minutes',
                CASE WHEN i > 5 THEN now() - i * interval '2 minutes' + interval '20 seconds' END,
                CASE WHEN i > 5 THEN now() - i * interval '2 minutes' + interval '5 minutes' END,
                CASE WHEN i > 5 THEN 'answered' ELSE '' END, false, now(), now()
            FROM generate_series(1, 200000) AS i
            """
        )
        cursor.execute("ANALYZE desk_ticket; ANALYZE calls_call;")


def close_open_tickets(keep_sixths: int) -> None:
    """Close all but ``keep_sixths`` sixths of the open tickets (by id), as if resolved a day
    after they were opened: the project's large seed has about 0.5 % open, this seed 6 %."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE desk_ticket SET status = 'closed',
                resolved_at = COALESCE(resolved_at, created_at + interval '1 day'),
                closed_at = COALESCE(resolved_at, created_at + interval '1 day'),
                sla_next_check_at = NULL, response_warned = false, resolution_warned = false,
                sla_breached = false
            WHERE number LIKE 'GDBENCH-%%' AND status <> 'closed' AND id %% 6 >= %s
            """,
            [keep_sixths],
        )
        cursor.execute("ANALYZE desk_ticket")


def timed(
    label: str, user: User, team_id: int | None, runs: int, *, kpi_cache: int
) -> dict[str, Any]:
    settings.KEFU_DASHBOARD_KPI_CACHE_S = kpi_cache
    scope = dashboard_scope(user=user, team_id=team_id)
    dashboard_data(scope)  # warm-up
    with CaptureQueriesContext(connection) as queries:
        dashboard_data(dashboard_scope(user=user, team_id=team_id))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        dashboard_data(dashboard_scope(user=user, team_id=team_id))
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    result = {
        "label": label + (" (KPI cards cached)" if kpi_cache else " (KPI cards computed)"),
        "queries": len(queries),
        "p50": statistics.median(times),
        "p95": times[max(0, round(len(times) * 0.95) - 1)],
        "max": times[-1],
        "slowest": sorted(
            ((float(q["time"]) * 1000, q["sql"][:160]) for q in queries.captured_queries),
            reverse=True,
        )[:3],
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument(
        "--open-sixths",
        type=int,
        default=6,
        help="keep this many sixths of the seeded open tickets open (closes the rest for good)",
    )
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "set KEFU_DATABASE_URL to a PostgreSQL database"
    call_command("migrate", verbosity=0)
    if Ticket.objects.filter(number__startswith="GDBENCH-").count() < args.tickets:
        start = time.perf_counter()
        seed(args.tickets)
        print(f"seeded {args.tickets} tickets in {time.perf_counter() - start:.0f} s")
    if args.open_sixths < 6:
        close_open_tickets(args.open_sixths)
    manager, _ = User.objects.get_or_create(username="bench-manager")
    manager.groups.add(Group.objects.get(name=ROLE_BY_CODE["manager"].name))
    supervisor, created = User.objects.get_or_create(username="bench-supervisor")
    supervisor.groups.add(Group.objects.get(name=ROLE_BY_CODE["supervisor"].name))
    team = Team.objects.get(name="看板测试03组")
    if created:
        Membership.objects.create(user=supervisor, team=team)
    print(
        f"{Ticket.objects.count()} tickets, {Ticket.objects.filter(status__in=OPEN).count()} open"
    )
    for label, user, team_id in (
        ("manager, every team", manager, None),
        ("supervisor, own team", supervisor, None),
        ("manager, one team", manager, team.pk),
    ):
        for kpi_cache in (3600, 0):
            user = User.objects.get(pk=user.pk)  # fresh permission cache
            result = timed(label, user, team_id, args.runs, kpi_cache=kpi_cache)
            print(
                f"{result['label']}: {result['queries']} queries, p50 {result['p50']:.1f} ms, "
                f"p95 {result['p95']:.1f} ms, max {result['max']:.1f} ms"
            )
            for ms, sql in result["slowest"]:
                print(f"    {ms:7.1f} ms  {sql}")


if __name__ == "__main__":
    main()
