"""Every periodic job in one place, in plain words. Each is also a management command, so cron or
systemd can run it instead of the Huey worker.

| job                          | when          | what                                            |
|------------------------------|---------------|-------------------------------------------------|
| api.tokens_purge_expired     | daily 03:10   | delete API tokens that expired over a day ago   |
| credit.credit_evaluate       | daily 02:10   | re-evaluate credit grades, limits and exposure  |
| tiering.tiers_recompute      | daily 02:30   | recompute customer tiers (with hysteresis)      |
| desk.tickets_sla_check       | every minute  | SLA warn at 80 %, breach → supervisor, 2× → mgr |
| desk.tickets_retier          | daily 02:45   | open tickets take their customer's new tier SLA |
| mail.mail_fetch              | every minute  | IMAP: new mail → tickets/replies, retry failed  |
| dispatch.workorders_overdue  | every 5 min   | announce each overdue work order once           |
| reports.monthly_report       | 1st 02:00     | generate and archive last month's 客服月报       |
| dashboard.kpis_warm          | every minute  | the dashboard's KPI cards into the shared cache |
| core.notices_sweep           | every minute  | notices/mail stuck in "sending" → queue again   |
| routing.presence_expire      | every minute  | agents not seen for 15 min → offline            |
| core.database_analyze        | daily 03:40   | SQLite: refresh the query planner's statistics  |
"""

from __future__ import annotations

from huey import crontab

TOKENS_PURGE_EXPIRED = crontab(hour="3", minute="10")
TIERS_RECOMPUTE = crontab(hour="2", minute="30")  # kefu recompute_tiers
CREDIT_EVALUATE = crontab(hour="2", minute="10")  # kefu evaluate_credit (before tiering)
TICKETS_SLA_CHECK = crontab(minute="*")  # kefu check_ticket_sla
TICKETS_RETIER = crontab(hour="2", minute="45")  # after the tier recompute
MAIL_FETCH = crontab(minute="*")  # kefu mail_fetch
WORKORDERS_OVERDUE_CHECK = crontab(minute="*/5")  # kefu check_workorders_overdue
MONTHLY_REPORT = crontab(day="1", hour="2", minute="0")  # kefu monthly_report
DASHBOARD_KPIS_WARM = crontab(minute="*")  # kefu warm_dashboard_kpis
NOTICES_SWEEP = crontab(minute="*")  # kefu sweep_notices
PRESENCE_EXPIRE = crontab(minute="*")  # kefu expire_presence
DATABASE_ANALYZE = crontab(hour="3", minute="40")  # kefu analyze_database
