// The overview's date picker: presets, or a custom from/to (two date inputs and Apply).
// The choice is a string (see `rangeOf`), kept in sessionStorage by the overview.
import { useEffect, useState } from 'preact/hooks';
import { Key } from './i18n';
import { customChoice, daysAgo, rangeOf } from './overview';

const PRESETS: [string, Key][] = [['-7d', 'last7'], ['-30d', 'last30'], ['-90d', 'last90'], ['today', 'today']];
const CUSTOM = 'custom';

export function RangePicker({ t, choice, onChoice }: { t: (key: Key) => string; choice: string; onChoice: (c: string) => void }) {
  const isCustom = choice.includes('..');
  const [editing, setEditing] = useState(isCustom);
  const range = rangeOf(choice);
  // Inputs start from the custom range shown, else the last 7 days: never empty, so no
  // locale placeholder (mm/dd/yyyy) appears on the Arabic page.
  const [from, setFrom] = useState(isCustom ? range.from : daysAgo(6));
  const [to, setTo] = useState(isCustom ? range.to ?? daysAgo(0) : daysAgo(0));
  useEffect(() => setEditing(isCustom), [isCustom]);
  const picked = customChoice(from, to);
  const select = (value: string) => (value === CUSTOM ? setEditing(true) : (setEditing(false), onChoice(value)));
  return (
    <>
      <label>{t('range')} <select data-testid="range" value={editing ? CUSTOM : choice} onChange={(e) => select((e.target as HTMLSelectElement).value)}>
        {PRESETS.map(([v, k]) => <option value={v}>{t(k)}</option>)}
        <option value={CUSTOM}>{t('customRange')}</option>
      </select></label>
      {editing && (
        <form class="custom-range" data-testid="custom-range" onSubmit={(e) => { e.preventDefault(); if (picked) onChoice(picked); }}>
          <label>{t('rangeFrom')} <input type="date" name="from" value={from} max={daysAgo(0)} required onInput={(e) => setFrom((e.target as HTMLInputElement).value)} /></label>
          <label>{t('rangeTo')} <input type="date" name="to" value={to} max={daysAgo(0)} required onInput={(e) => setTo((e.target as HTMLInputElement).value)} /></label>
          <button type="submit" disabled={!picked || picked === choice}>{t('apply')}</button>
          {!picked && <span class="error" role="alert">{t('badRange')}</span>}
        </form>
      )}
    </>
  );
}
