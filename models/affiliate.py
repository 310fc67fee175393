"""Affiliates who earn a commission on the sales they bring."""
from models.base import db


class Affiliate(db.Model):
    __tablename__ = "affiliate"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False)
    email = db.Column(db.String(254), nullable=False, unique=True)
    # Default commission in basis points (1250 = 12.50 %), never a float.
    commission_rate_bp = db.Column(db.Integer, nullable=False, default=0)

    __table_args__ = (
        db.CheckConstraint("commission_rate_bp BETWEEN 0 AND 10000", name="rate_range"),
    )

    def commission_for(self, net_cents):
        """Default commission on a net amount, rounded half up to the minor unit."""
        return (net_cents * self.commission_rate_bp + 5000) // 10000

    def __str__(self):
        return f"{self.name} <{self.email}>"
