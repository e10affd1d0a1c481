import chineseDays from 'chinese-days';
import { describe, expect, it } from 'vitest';
import { createDefaultCalendar } from '../../src/calendar/index.ts';

// An independent transcription of the same notices (the chinese-days package), compared day by day.
describe('calendar against chinese-days', () => {
  const calendar = createDefaultCalendar();

  it('agrees on every day of 2025 and 2026', () => {
    const disagreements: string[] = [];
    for (let ms = Date.UTC(2025, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 86_400_000) {
      const date = new Date(ms).toISOString().slice(0, 10);
      if (calendar.isWorkingDay(date) !== chineseDays.isWorkday(date)) disagreements.push(date);
    }
    expect(disagreements).toEqual([]);
  });

  it('agrees on the tenth working day after each 2025 and 2026 month start', () => {
    for (const year of [2025, 2026]) {
      for (let month = 1; month <= 12; month += 1) {
        const start = `${year}-${String(month).padStart(2, '0')}-01`;
        expect(calendar.addWorkingDays(start, 10), start).toBe(chineseDays.findWorkday(10, start));
      }
    }
  });
});
