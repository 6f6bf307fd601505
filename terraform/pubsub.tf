# Keys are the names of TOPICS in types/src/index.ts; values are the topics.
locals {
  topics = {
    deploymentRequests = "deployment-requests"
    cloudBuilds        = "cloud-builds"
    deploymentLogs     = "deployment-logs"
  }
  pubsub_agent = "serviceAccount:${google_project_service_identity.pubsub.email}"
}

resource "google_project_service_identity" "pubsub" {
  provider = google-beta

  service = "pubsub.googleapis.com"

  depends_on = [google_project_service.main]
}

resource "google_pubsub_topic" "main" {
  for_each = local.topics

  name                       = each.value
  message_retention_duration = "86400s"

  depends_on = [google_project_service.main]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = local.topics

  name = "${each.value}-dead-letter"

  depends_on = [google_project_service.main]
}

# Holds what failed delivery for a week, to read or to replay.
resource "google_pubsub_subscription" "dead_letter" {
  for_each = local.topics

  name                       = "${each.value}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.topics

  topic  = google_pubsub_topic.dead_letter[each.key].name
  role   = "roles/pubsub.publisher"
  member = local.pubsub_agent
}

# Eventarc creates and owns each trigger's push subscription, and neither the
# function nor the trigger resource can give it a dead-letter topic or a retry
# backoff. So once a function exists, its subscription is updated in place;
# this runs again whenever the trigger is replaced.
resource "terraform_data" "event_delivery" {
  for_each = local.event_functions

  triggers_replace = [
    google_cloudfunctions2_function.main[each.key].event_trigger[0].trigger,
    google_pubsub_topic.dead_letter[each.value.topic].id,
    var.max_delivery_attempts,
  ]

  provisioner "local-exec" {
    interpreter = ["bash", "-c"]
    command     = <<-EOT
      set -euo pipefail
      subscription=$(gcloud eventarc triggers describe "${basename(google_cloudfunctions2_function.main[each.key].event_trigger[0].trigger)}" \
        --project="${var.project_id}" --location="${var.region}" \
        --format='value(transport.pubsub.subscription)')
      gcloud pubsub subscriptions update "$subscription" \
        --project="${var.project_id}" \
        --dead-letter-topic="${google_pubsub_topic.dead_letter[each.value.topic].id}" \
        --max-delivery-attempts="${var.max_delivery_attempts}" \
        --min-retry-delay=10s --max-retry-delay=600s
      gcloud pubsub subscriptions add-iam-policy-binding "$subscription" \
        --project="${var.project_id}" \
        --member="${local.pubsub_agent}" --role=roles/pubsub.subscriber >/dev/null
    EOT
  }

  depends_on = [google_pubsub_topic_iam_member.dead_letter_publisher]
}
