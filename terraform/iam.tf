resource "google_service_account" "functions" {
  account_id   = "sigyl-functions"
  display_name = "Sigyl functions"
  description  = "Runs the Sigyl functions: Firestore, builds, Cloud Run services of deployed servers, users' secrets."
}

resource "google_service_account" "functions_build" {
  account_id   = "sigyl-functions-build"
  display_name = "Sigyl functions build"
  description  = "Builds the Sigyl functions themselves, apart from the builds of users' code."
}

resource "google_service_account" "build" {
  account_id   = "sigyl-build"
  display_name = "Sigyl builds"
  description  = "Runs the Cloud Build builds of deployed MCP servers: reads their source, pushes their image."
}

resource "google_service_account" "runtime" {
  account_id   = "sigyl-mcp-runtime"
  display_name = "Sigyl MCP servers"
  description  = "Identity of deployed MCP servers. It holds no role in the project; each server's own secrets are granted to it one by one."
}

resource "google_service_account" "invoker" {
  account_id   = "sigyl-invoker"
  display_name = "Sigyl event delivery"
  description  = "Used by Eventarc and Cloud Scheduler to call the Sigyl functions."
}

locals {
  project_roles = {
    functions = [
      "roles/cloudbuild.builds.editor",
      "roles/datastore.user",
      "roles/logging.logWriter",
      # Turning off the invoker check of a deployed server needs
      # run.services.setIamPolicy, which run.developer lacks.
      "roles/run.admin",
      # Creates each deployment's secrets and grants them to the runtime
      # account one secret at a time.
      "roles/secretmanager.admin",
    ]
    functions_build = [
      "roles/artifactregistry.writer",
      "roles/logging.logWriter",
    ]
    build = [
      "roles/logging.logWriter",
    ]
  }
  project_bindings = merge([
    for account, roles in local.project_roles : {
      for role in roles : "${account} ${role}" => { account = account, role = role }
    }
  ]...)
  service_accounts = {
    functions       = google_service_account.functions
    functions_build = google_service_account.functions_build
    build           = google_service_account.build
  }
}

resource "google_project_iam_member" "main" {
  for_each = local.project_bindings

  project = var.project_id
  role    = each.value.role
  member  = local.service_accounts[each.value.account].member
}

# The functions start builds as the build account and servers as the
# runtime account.
resource "google_service_account_iam_member" "functions_act_as_build" {
  service_account_id = google_service_account.build.name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.functions.member
}

resource "google_service_account_iam_member" "functions_act_as_runtime" {
  service_account_id = google_service_account.runtime.name
  role               = "roles/iam.serviceAccountUser"
  member             = google_service_account.functions.member
}

# Pub/Sub signs the OIDC tokens of Eventarc's push deliveries as the invoker.
resource "google_service_account_iam_member" "pubsub_tokens_for_invoker" {
  service_account_id = google_service_account.invoker.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

resource "google_pubsub_topic_iam_member" "functions_publisher" {
  for_each = toset(["deploymentRequests", "deploymentLogs"])

  topic  = google_pubsub_topic.main[each.value].name
  role   = "roles/pubsub.publisher"
  member = google_service_account.functions.member
}

resource "google_storage_bucket_iam_member" "functions_write_build_sources" {
  bucket = google_storage_bucket.build_sources.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.functions.member
}

resource "google_storage_bucket_iam_member" "build_read_build_sources" {
  bucket = google_storage_bucket.build_sources.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.build.member
}

resource "google_storage_bucket_iam_member" "functions_build_read_source" {
  bucket = google_storage_bucket.functions_source.name
  role   = "roles/storage.objectViewer"
  member = google_service_account.functions_build.member
}

resource "google_artifact_registry_repository_iam_member" "build_push" {
  location   = google_artifact_registry_repository.servers.location
  repository = google_artifact_registry_repository.servers.name
  role       = "roles/artifactregistry.writer"
  member     = google_service_account.build.member
}
