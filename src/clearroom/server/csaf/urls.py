from django.urls import path

from clearroom.server.csaf import views

urlpatterns = [
    path("security.txt", views.security_txt, name="security-txt"),
    path("csaf/provider-metadata.json", views.provider_metadata, name="csaf-provider"),
    path("csaf/openpgp/<str:fingerprint>.asc", views.openpgp_key, name="csaf-key"),
    path("csaf/<str:tlp>/", views.folder_file, {"name": ""}, name="csaf-folder"),
    path("csaf/<str:tlp>/<path:name>", views.folder_file, name="csaf-file"),
]
