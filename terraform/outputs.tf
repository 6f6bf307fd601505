output "api_url" {
  description = "Base URL of the Sigyl API (VITE_SIGYL_API_URL)."
  value       = google_cloudfunctions2_function.main["api"].url
}

output "web_url" {
  description = "Where the web app is served once `firebase deploy` has run."
  value       = local.web_origin
}

output "hosting_site_id" {
  description = "Firebase Hosting site to deploy the web app to (`firebase deploy --only hosting`)."
  value       = google_firebase_hosting_site.main.site_id
}

output "web_build_env" {
  description = "Settings for building the web app (`npx vite build web`): the contents of web/.env.production."
  value       = join("\n", [
    "VITE_SIGYL_FIREBASE_CONFIG='${jsonencode(local.firebase_web_config)}'",
    "VITE_SIGYL_API_URL=${google_cloudfunctions2_function.main["api"].url}",
    "VITE_SIGYL_PROJECT_ID=${var.project_id}",
  ])
}

output "service_accounts" {
  description = "The service accounts Sigyl created, by role."
  value       = {
    functions       = google_service_account.functions.email
    functions_build = google_service_account.functions_build.email
    build           = google_service_account.build.email
    runtime         = google_service_account.runtime.email
    invoker         = google_service_account.invoker.email
  }
}

output "dead_letter_subscriptions" {
  description = "Subscriptions that hold events a function failed to handle after every retry."
  value       = { for key, s in google_pubsub_subscription.dead_letter : key => s.name }
}

output "artifact_repository" {
  description = "Docker repository of the deployed servers' images."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.servers.repository_id}"
}
