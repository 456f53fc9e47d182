// Progressive enhancement: an upload progress bar for evidence forms, and the size limits checked
// before anything is sent. Without this script the form posts as usual and the server answers with
// the page (and refuses an oversized body before reading it).
document.addEventListener('DOMContentLoaded', () => {
  for (const form of document.querySelectorAll('form[data-upload]')) {
    const bar = form.querySelector('progress');
    const status = form.querySelector('.upload-status');
    const button = form.querySelector('button[type=submit]');
    const input = form.querySelector('input[type=file]');
    const maxBytes = Number(form.dataset.maxFileBytes);
    const maxFiles = Number(form.dataset.maxFiles);
    const say = (text, failed) => {
      status.textContent = text;
      status.classList.toggle('upload-error', Boolean(failed));
      // A refusal is announced at once; progress politely.
      status.setAttribute('role', failed ? 'alert' : 'status');
      if (failed) bar.hidden = true;
    };
    /** Why the chosen files cannot go, or '' when they can. */
    const tooMuch = () => {
      const files = Array.from(input.files);
      if (maxFiles && files.length > maxFiles) return `Выбрано файлов: ${files.length}, а можно не больше ${maxFiles}. Уберите лишние.`;
      const big = files.filter((f) => maxBytes && f.size > maxBytes);
      if (big.length === 0) return '';
      const mb = Math.floor(maxBytes / 1024 / 1024);
      const one = big.length === 1;
      return `${one ? 'Файл' : 'Файлы'} ${big.map((f) => `«${f.name}»`).join(', ')} больше ${mb} МБ: уменьшите или разделите ${one ? 'его' : 'их'}. Ничего не отправлено.`;
    };
    input.addEventListener('change', () => {
      const problem = tooMuch();
      say(problem, Boolean(problem));
      input.setAttribute('aria-invalid', problem ? 'true' : 'false');
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const problem = tooMuch();
      if (problem) return void say(problem, true);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      xhr.setRequestHeader('X-Requested-With', 'XMLHttpRequest');
      xhr.upload.addEventListener('progress', (e) => {
        if (!e.lengthComputable) return;
        bar.hidden = false;
        bar.max = e.total;
        bar.value = e.loaded;
        say(`Загружено ${Math.round((e.loaded / e.total) * 100)}%`, false);
      });
      xhr.addEventListener('load', () => {
        let answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch { /* not JSON: reload below */ }
        if (xhr.status < 300 && answer.redirect) return void window.location.assign(answer.redirect);
        button.disabled = false;
        say(answer.error || 'Не удалось отправить отчёт. Попробуйте ещё раз.', true);
      });
      xhr.addEventListener('error', () => {
        button.disabled = false;
        say('Нет связи с сервером: отчёт не отправлен. Попробуйте ещё раз.', true);
      });
      button.disabled = true;
      say('Отправка…', false);
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
    const { dueDate, moved, calendarKnown } = await res.json();
    const ru = (iso) => iso.split('-').reverse().join('.');
    const day = moved ? `${ru(due.value)} — нерабочий день: срок ${ru(dueDate)}` : `Срок ${ru(dueDate)}, рабочий день`;
    // Without the year's production calendar only weekends count as days off: a holiday may be missed.
    preview.textContent = calendarKnown
      ? day
      : `${day} — если считать нерабочими только субботу и воскресенье: производственного календаря на ${due.value.slice(0, 4)} год нет, праздники не учтены. Попросите администратора добавить календарь.`;
    preview.classList.toggle('calendar-unknown', !calendarKnown);
  };
  due.addEventListener('change', () => void show());
  void show();
});
