from django.contrib import admin
from django.urls import path
from tickets import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("tickets/<int:pk>/actions/<str:action>", views.fire, name="ticket-fire"),
]
