# One entry per function registered in functions/src/index.ts; the key is its
# name, its entry point and its folder. `topic` is a key of local.topics.
locals {
  functions = {
    api = {
      topic         = null
      timeout       = 3600 # log streams stay open
      memory        = "512Mi"
      concurrency   = 80
      max_instances = null
    }
    startDeployment = {
      topic         = "deploymentRequests"
      timeout       = 300
      memory        = "512Mi"
      concurrency   = 10
      max_instances = null
    }
    onBuildEvent = {
      topic         = "cloudBuilds"
      timeout       = 540 # deploys and verifies a revision
      memory        = "512Mi"
      concurrency   = 10
      max_instances = null
    }
    ingestLogs = {
      topic         = "deploymentLogs"
      timeout       = 120
      memory        = "512Mi"
      concurrency   = 200 # lines that arrive together are written together
      # Group commit, per-deployment counters and the kept tail live in the
      # instance's memory: one instance with many requests in flight.
      max_instances = 1
    }
    sweepDeployments = {
      topic         = null
      timeout       = 300
      memory        = "256Mi"
      concurrency   = 1
      max_instances = null
    }
  }
  event_functions = { for name, f in local.functions : name => f if f.topic != null }

  function_environment = {
    SIGYL_MODE                       = "cloud"
    SIGYL_PROJECT_ID                 = var.project_id
    SIGYL_AUTH_PROJECT_ID            = var.project_id
    SIGYL_REGION                     = var.region
    SIGYL_ARTIFACT_REPOSITORY        = google_artifact_registry_repository.servers.repository_id
    SIGYL_BUILD_SERVICE_ACCOUNT      = google_service_account.build.email
    SIGYL_RUNTIME_SERVICE_ACCOUNT    = google_service_account.runtime.email
    SIGYL_SOURCE_BUCKET              = google_storage_bucket.build_sources.name
    SIGYL_WEB_ORIGIN                 = local.web_origin
    SIGYL_DEPLOYMENT_TIMEOUT_MINUTES = tostring(var.deployment_timeout_minutes)
    SIGYL_LOG_RETENTION_DAYS         = tostring(var.log_retention_days)
    NODE_OPTIONS                     = "--enable-source-maps"
  }
}

resource "google_cloudfunctions2_function" "main" {
  for_each = local.functions

  name     = each.key
  location = var.region

  build_config {
    runtime         = "nodejs22"
    entry_point     = each.key
    service_account = google_service_account.functions_build.id

    source {
      storage_source {
        bucket = google_storage_bucket.functions_source.name
        object = google_storage_bucket_object.functions.name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.functions.email
    available_memory                 = each.value.memory
    available_cpu                    = "1"
    timeout_seconds                  = each.value.timeout
    max_instance_request_concurrency = each.value.concurrency
    max_instance_count               = coalesce(each.value.max_instances, var.max_function_instances)
    ingress_settings                 = "ALLOW_ALL"
    all_traffic_on_latest_revision   = true
    environment_variables            = local.function_environment
  }

  dynamic "event_trigger" {
    for_each = each.value.topic == null ? [] : [each.value.topic]

    content {
      trigger_region        = var.region
      event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
      pubsub_topic          = google_pubsub_topic.main[event_trigger.value].id
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = google_service_account.invoker.email
    }
  }

  depends_on = [
    google_firestore_database.main,
    google_project_iam_member.main,
    google_storage_bucket_iam_member.functions_build_read_source,
  ]
}

# The web app calls the API from browsers; it checks Firebase ID tokens
# itself.
resource "google_cloud_run_service_iam_member" "api_public" {
  location = var.region
  service  = google_cloudfunctions2_function.main["api"].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_service_iam_member" "invoker" {
  for_each = { for name, f in local.functions : name => f if name != "api" }

  location = var.region
  service  = google_cloudfunctions2_function.main[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = google_service_account.invoker.member
}
