"""The forms people sign, as print-ready PDF (issue 15, ADR 0017): 附件1 手册, 附件2 审批表, 附件3 汇总表
and Zhuhai's 附件4 服务卡.

Pure: each form is a frozen dataclass of what the paper shows, rendered to HTML by a Jinja2 template
and to PDF by WeasyPrint. Nothing here calls a service or reads a database; the console gathers the
data with the clerk's own token and hands it over.
"""

from printing.annual_summary import AnnualSummary, CommunityForm, SummaryRow, annual_summary_pdf
from printing.approval_form import ApprovalForm, ItemDecision, RequestedItem, SignOff, approval_form_pdf
from printing.fonts import FontsMissing
from printing.handbook import AssessmentPage, Handbook, ServicePage, handbook_pdf
from printing.person import Guardian, Person
from printing.service_card import CardItem, ServiceCard, service_card_pdf

__all__ = [
    "AnnualSummary",
    "ApprovalForm",
    "AssessmentPage",
    "CardItem",
    "CommunityForm",
    "FontsMissing",
    "Guardian",
    "Handbook",
    "ItemDecision",
    "Person",
    "RequestedItem",
    "ServiceCard",
    "ServicePage",
    "SignOff",
    "SummaryRow",
    "annual_summary_pdf",
    "approval_form_pdf",
    "handbook_pdf",
    "service_card_pdf",
]
