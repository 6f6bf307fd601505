resource "google_firestore_database" "main" {
  name        = "(default)"
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"

  depends_on = [google_project_service.main]
}

# Log chunks carry their own expiry (now + log_retention_days, set by the
# functions). The field is also left out of indexes: an index on an ever
# increasing time would cap log writes at about 500 a second.
resource "google_firestore_field" "log_expiry" {
  database   = google_firestore_database.main.name
  collection = "logs"
  field      = "expireAt"

  ttl_config {}
  index_config {}
}
