// Site-wide behaviour: the language switcher submits as soon as a language is picked.
for (const form of document.querySelectorAll("form[data-autosubmit]")) {
  const select = form.querySelector("select");
  const button = form.querySelector("button");
  if (button) button.hidden = true;
  select?.addEventListener("change", () => form.submit());
}
