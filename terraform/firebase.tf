resource "google_firebase_project" "main" {
  provider = google-beta

  project = var.project_id

  depends_on = [google_project_service.main]
}

resource "google_firebase_web_app" "main" {
  provider = google-beta

  display_name    = "Sigyl"
  deletion_policy = "DELETE"

  depends_on = [google_firebase_project.main]
}

data "google_firebase_web_app_config" "main" {
  provider = google-beta

  web_app_id = google_firebase_web_app.main.app_id
}

resource "google_firebase_hosting_site" "main" {
  provider = google-beta

  site_id = coalesce(var.hosting_site_id, var.project_id)
  app_id  = google_firebase_web_app.main.app_id
}

locals {
  web_origin          = coalesce(var.web_origin, google_firebase_hosting_site.main.default_url)
  firebase_web_config = {
    apiKey     = data.google_firebase_web_app_config.main.api_key
    authDomain = data.google_firebase_web_app_config.main.auth_domain
    projectId  = var.project_id
    appId      = google_firebase_web_app.main.app_id
  }
}
