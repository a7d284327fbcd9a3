from django.urls import path

from clearroom.server.transparency import views

urlpatterns = [
    path("checkpoint", views.checkpoint, name="log-checkpoint"),
    path("key", views.verifier_key, name="log-key"),
    path("tile/<path:key>", views.tile, name="log-tile"),
]
