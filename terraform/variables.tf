variable "project_id" {
  type        = string
  description = "The Google Cloud project Sigyl runs in. It must exist and have billing enabled."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "A project id is 6 to 30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  type        = string
  description = "Region of the functions, builds, Artifact Registry and the deployed MCP servers."
  default     = "us-central1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "Use a region name such as us-central1 or europe-west1."
  }
}

variable "firestore_location" {
  type        = string
  description = "Location of the Firestore database: a multi-region (nam5, eur3) or a region. It cannot be changed later."
  default     = "nam5"

  validation {
    condition     = can(regex("^(nam5|nam7|eur3|[a-z]+-[a-z]+[0-9]+)$", var.firestore_location))
    error_message = "Use a Firestore location such as nam5, eur3 or us-central1."
  }
}

variable "hosting_site_id" {
  type        = string
  description = "Firebase Hosting site for the web app; it becomes <id>.web.app. Defaults to the project id."
  default     = null

  validation {
    condition     = var.hosting_site_id == null || can(regex("^[a-z0-9][a-z0-9-]{4,61}[a-z0-9]$", var.hosting_site_id))
    error_message = "A site id is 6 to 63 lowercase letters, digits or hyphens."
  }
}

variable "web_origin" {
  type        = string
  description = "The origin the web app is served from, if not the Hosting site's own (a custom domain). The API accepts browser requests from this origin only."
  default     = null

  validation {
    condition     = var.web_origin == null || can(regex("^https://[a-z0-9.-]+(:[0-9]+)?$", var.web_origin))
    error_message = "Give an origin such as https://sigyl.example.com, with no path or trailing slash."
  }
}

variable "deployment_timeout_minutes" {
  type        = number
  description = "A deployment that makes no progress for this long is failed by the sweep; it is also the build timeout."
  default     = 30

  validation {
    condition     = var.deployment_timeout_minutes >= 5 && var.deployment_timeout_minutes <= 240
    error_message = "Choose between 5 and 240 minutes."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days a deployment's log lines are kept in Firestore before the TTL policy deletes them."
  default     = 30

  validation {
    condition     = var.log_retention_days >= 1 && var.log_retention_days <= 3650
    error_message = "Choose between 1 and 3650 days."
  }
}

variable "sweep_schedule" {
  type        = string
  description = "Cron schedule (UTC) on which Cloud Scheduler calls sweepDeployments to fail stuck deployments."
  default     = "*/5 * * * *"

  validation {
    condition     = length(split(" ", var.sweep_schedule)) == 5
    error_message = "Give a cron expression with five fields, such as */5 * * * *."
  }
}

variable "max_delivery_attempts" {
  type        = number
  description = "Deliveries of an event to a function before it is moved to the topic's dead-letter topic."
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "Pub/Sub accepts 5 to 100 delivery attempts."
  }
}

variable "max_function_instances" {
  type        = number
  description = "Upper bound on the instances of each function, which caps cost under a burst."
  default     = 20

  validation {
    condition     = var.max_function_instances >= 1 && var.max_function_instances <= 1000
    error_message = "Choose between 1 and 1000 instances."
  }
}

variable "artifact_repository_id" {
  type        = string
  description = "Artifact Registry repository that holds the images of deployed MCP servers."
  default     = "sigyl-servers"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.artifact_repository_id))
    error_message = "A repository id is lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "functions_source_dir" {
  type        = string
  description = "The folder `npm run package` writes the functions to, relative to this directory."
  default     = "../dist/functions"
}
