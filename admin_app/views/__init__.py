"""The Flask-Admin panel: menu and views."""
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from admin_app import redirects
from admin_app.security import csp_nonce
from admin_app.views.admin_users import AdminUsersView
from admin_app.views.home import HomeView
from admin_app.views.audit import AuditView, SignInView
from admin_app.views.catalog import AffiliateView, PlanView
from admin_app.views.customers import CustomerView
from admin_app.views.drift import DriftView
from admin_app.views import drift
from admin_app.views.jobs import JobView
from admin_app.outbox import OutboxView
from admin_app.views.sandbox_page import SandboxView
from admin_app.views.subscriptions import SubscriptionView
from admin_app.views.transactions import TransactionView
from admin_app.views.webhooks import WebhookEventView
from models import (Affiliate, AuditEvent, Customer, Job, Plan, Subscription, Transaction,
                    WebhookEvent, db)


def init_app(app):
    redirects.init_app(app)
    admin = Admin(app, name="Memberdesk", index_view=HomeView(name="Home", url="/admin"),
                  theme=Bootstrap4Theme(base_template="admin/memberdesk_base.html",
                                        fluid=True),
                  csp_nonce_generator=csp_nonce)
    admin.add_view(CustomerView(Customer, db, name="Customers", category="Sales",
                                endpoint="customer"))
    admin.add_view(TransactionView(Transaction, db, name="Transactions", category="Sales",
                                   endpoint="transaction"))
    admin.add_view(SubscriptionView(Subscription, db, name="Subscriptions", category="Sales",
                                    endpoint="subscription"))
    admin.add_view(PlanView(Plan, db, name="Plans", category="Catalog", endpoint="plan"))
    admin.add_view(AffiliateView(Affiliate, db, name="Affiliates", category="Catalog",
                                 endpoint="affiliate"))
    admin.add_view(AuditView(AuditEvent, db, name="Audit log", endpoint="audit"))
    admin.add_view(SignInView(AuditEvent, db, name="Sign-ins", endpoint="audit_sign_ins",
                              url="/admin/audit/sign-ins"))
    admin.add_view(JobView(Job, db, name="Jobs", endpoint="jobs"))
    admin.add_view(WebhookEventView(WebhookEvent, db, name="Webhook events",
                                    category="Gateways", endpoint="webhook_event"))
    admin.add_view(DriftView(name="Sync differences", category="Gateways", endpoint="drift"))
    drift.init_app(app)
    admin.add_view(OutboxView(name="Outbox", endpoint="outbox", url="/admin/outbox"))
    admin.add_view(SandboxView(name="Sandbox", endpoint="sandbox", url="/admin/sandbox"))
    admin.add_view(AdminUsersView(name="Admin users", endpoint="admin_users", url="/admin/users"))
    return admin
