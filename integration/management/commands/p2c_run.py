"""``p2c_run PROJECT``: run an F&O data integration project (a thin door onto integration.fo.projects.project_run)."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext
from tqdm import tqdm

from integration.fo.projects import project_run, task_run_errors
from integration.fo.templates import fo_templates_install, project_create
from integration.models import IntegrationProject, IntegrationTemplate
from p2c.doors import outcome_finish
from p2c.management.arguments import text
from p2c.outcomes import OperationRefused


class Command(BaseCommand):
    help = gettext("Run a Finance and Operations data integration project (its tasks in order) and print its execution "
            "history line; --create TEMPLATE makes the project from a template first. Exits 1 when the project is "
            "refused (a prerequisite task has not run, a run is under way), a task failed, or a row failed.")

    def add_arguments(self, parser):
        parser.add_argument("project", type=text, metavar="PROJECT", help=gettext("Project name."))
        parser.add_argument("--create", type=text, metavar="TEMPLATE",
                            help=gettext("Create the project from this template when it does not exist."))
        parser.add_argument("--full", action="store_true", help=gettext("Read every row, not only those changed."))
        parser.add_argument("--background", action="store_true",
                            help=gettext("Queue the run for a Celery worker instead of running it here."))

    def handle(self, *args, project, create, full, background, **options):
        found = IntegrationProject.objects.filter(name=project).first()
        if found is None and create:
            fo_templates_install()
            template = IntegrationTemplate.objects.filter(name=create).first()
            if template is None:
                names = ", ".join(IntegrationTemplate.objects.values_list("name", flat=True))
                raise CommandError(
                    gettext("No template %(create)s. Templates: %(names)s.") % {"create": repr(create), "names": names}
                )
            found = project_create(template=template, name=project)
            self.stdout.write(
                gettext("Project %(project)s created from %(template)s.")
                % {"project": project, "template": template.name}
            )
        if found is None:
            names = ", ".join(IntegrationProject.objects.values_list("name", flat=True)) or "none"
            raise CommandError(
                gettext("No project %(project)s (projects: %(names)s); use --create TEMPLATE.")
                % {"project": repr(project), "names": names}
            )
        try:
            outcome = project_run(project=found, full=full, requested_by="manage.py p2c_run", background=background,
                                  progress=None if background else self._progress())
        except OperationRefused as exc:
            raise CommandError(exc.message) from None
        if not background:
            self._report(outcome.jobs[0])
        outcome_finish(self, outcome)

    def _progress(self):
        if not sys.stdout.isatty():
            return None
        bars = {}

        def progress(*, task_run, job, done, total):
            bar = bars.get(task_run.pk)
            if bar is None:
                bar = bars[task_run.pk] = tqdm(total=total, desc=task_run.task_name, unit="rows", leave=False,
                                               file=sys.stdout)
            bar.update(done)

        return progress

    def _report(self, run):
        style = self.style.SUCCESS if run.status == run.Status.SUCCESS else self.style.ERROR
        self.stdout.write(style(f"{run.project.name} run #{run.pk}: {run.get_status_display()}"))
        for task_run in run.task_runs.order_by("sequence", "pk"):
            self.stdout.write(f"  {task_run.task_name} [{task_run.get_status_display()}]: {task_run.message_text}")
            for error in task_run_errors(task_run=task_run, limit=20):
                self.stdout.write(f"    ! {error.message_text}")
