resource "google_cloud_scheduler_job" "sweep_deployments" {
  name             = "sweepDeployments"
  region           = var.region
  description      = "Fails deployments that made no progress within the deployment timeout."
  schedule         = var.sweep_schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "320s"

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.main["sweepDeployments"].url

    oidc_token {
      service_account_email = google_service_account.invoker.email
      audience              = google_cloudfunctions2_function.main["sweepDeployments"].url
    }
  }

  depends_on = [google_cloud_run_service_iam_member.invoker]
}
