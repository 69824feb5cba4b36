// Delivers the authorization response of a form_post request: submits the
// page's form to the application as soon as the page is read. Without
// JavaScript the person presses the form's own button. Served from TNO's
// origin, the only script its Content-Security-Policy ever allows.
"use strict";
(function () {
  var form = document.getElementById("form-post");
  if (form) {
    form.submit();
  }
})();
