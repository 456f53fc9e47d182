// Progressive enhancement: an upload progress bar for evidence forms. Without this script the form
// posts as usual and the server answers with the page.
document.addEventListener('DOMContentLoaded', () => {
  for (const form of document.querySelectorAll('form[data-upload]')) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const bar = form.querySelector('progress');
      const status = form.querySelector('.upload-status');
      const button = form.querySelector('button[type=submit]');
      const xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
      xhr.upload.addEventListener('progress', (e) => {
        if (!e.lengthComputable) return;
        bar.hidden = false;
        bar.max = e.total;
        bar.value = e.loaded;
        status.textContent = `Загружено ${Math.round((e.loaded / e.total) * 100)}%`;
      });
      xhr.addEventListener('load', () => {
        let answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch { /* not JSON: reload below */ }
        if (xhr.status < 300 && answer.redirect) return void window.location.assign(answer.redirect);
        button.disabled = false;
        status.textContent = answer.error || 'Не удалось отправить отчёт. Попробуйте ещё раз.';
      });
      xhr.addEventListener('error', () => {
        button.disabled = false;
        status.textContent = 'Нет связи с сервером: отчёт не отправлен. Попробуйте ещё раз.';
      });
      button.disabled = true;
      status.textContent = 'Отправка…';
      xhr.send(new FormData(form));
    });
  }
});

// The deadline field shows where the working-day rule puts the date, as the curator types it.
document.addEventListener('DOMContentLoaded', () => {
  const due = document.getElementById('due');
  const preview = document.getElementById('due-preview');
  if (!due || !preview) return;
  const show = async () => {
    if (!due.value) return void (preview.textContent = '');
    const res = await fetch(`/deadline-preview?date=${encodeURIComponent(due.value)}`, { headers: { accept: 'application/json' } });
    if (!res.ok) return void (preview.textContent = 'Нет такой даты');
    const { dueDate, moved } = await res.json();
    const ru = (iso) => iso.split('-').reverse().join('.');
    preview.textContent = moved ? `${ru(due.value)} — нерабочий день: срок ${ru(dueDate)}` : `Срок ${ru(dueDate)}, рабочий день`;
  };
  due.addEventListener('change', () => void show());
  void show();
});
