"""Import every domain's models, so that Alembic and ``db.create_all`` see the whole schema."""

from .accounts import models as accounts_models  # noqa: F401
from .api import idempotency as api_idempotency  # noqa: F401
from .api import models as api_models  # noqa: F401
from .audit import models as audit_models  # noqa: F401
from .catalogs import models as catalogs_models  # noqa: F401
from .documents import models as documents_models  # noqa: F401
from .exchange import models as exchange_models  # noqa: F401
from .i18n import models as i18n_models  # noqa: F401
from .indicators import models as indicators_models  # noqa: F401
from .jobs import models as jobs_models  # noqa: F401
from .pwa import models as pwa_models  # noqa: F401
from .reminders import models as reminders_models  # noqa: F401
from .reports import models as reports_models  # noqa: F401
from .statistics import models as statistics_models  # noqa: F401
from .submissions import models as submissions_models  # noqa: F401
from .sync import models as sync_models  # noqa: F401
