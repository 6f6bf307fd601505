resource "google_storage_bucket" "functions_source" {
  name                        = "${var.project_id}-sigyl-functions"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.main]
}

# Source uploaded for deployments' builds.
resource "google_storage_bucket" "build_sources" {
  name                        = "${var.project_id}-sigyl-build-sources"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  lifecycle_rule {
    condition {
      age = 7
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.main]
}

data "archive_file" "functions" {
  type        = "zip"
  source_dir  = "${path.module}/${var.functions_source_dir}"
  output_path = "${path.module}/.terraform/functions.zip"
}

# Named by content, so a new package redeploys every function.
resource "google_storage_bucket_object" "functions" {
  name   = "functions-${data.archive_file.functions.output_md5}.zip"
  bucket = google_storage_bucket.functions_source.name
  source = data.archive_file.functions.output_path
}

resource "google_artifact_registry_repository" "servers" {
  repository_id = var.artifact_repository_id
  location      = var.region
  format        = "DOCKER"
  description   = "Images of the MCP servers Sigyl deploys."

  depends_on = [google_project_service.main]
}
