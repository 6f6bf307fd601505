locals {
  # Cloud Build's build output (its audit entries share the resource type but
  # not the log name), and what deployed MCP servers write, without Cloud
  # Run's request log.
  deployment_log_filter = <<-EOT
    (logName="projects/${var.project_id}/logs/cloudbuild" AND resource.type="build")
    OR (resource.type="cloud_run_revision"
      AND resource.labels.service_name=~"^mcp-"
      AND logName!="projects/${var.project_id}/logs/run.googleapis.com%2Frequests")
  EOT
}

resource "google_logging_project_sink" "deployment_logs" {
  name                   = "sigyl-deployment-logs"
  destination            = "pubsub.googleapis.com/${google_pubsub_topic.main["deploymentLogs"].id}"
  filter                 = local.deployment_log_filter
  unique_writer_identity = true
}

resource "google_pubsub_topic_iam_member" "sink_publisher" {
  topic  = google_pubsub_topic.main["deploymentLogs"].name
  role   = "roles/pubsub.publisher"
  member = google_logging_project_sink.deployment_logs.writer_identity
}
