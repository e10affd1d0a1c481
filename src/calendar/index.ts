export {
  WorkingDayCalendar,
  DEFAULT_WORKING_HOURS,
  MAX_WORKING_DAYS,
  type CalendarOptions,
  type CoverageReport,
  type DueTime,
  type LoadedYear,
  type WorkingHours,
} from './working-day-calendar.ts';
export {
  validateYearTable,
  type AdjustedWorkingDay,
  type Holiday,
  type NoticeSource,
  type TableProblem,
  type TableValidation,
  type YearTable,
} from './year-table.ts';
export {
  CONTRACT_CALENDAR_DIR,
  CalendarTableError,
  createDefaultCalendar,
  formatTableProblem,
  loadContractTables,
  loadTableFile,
  readTableFile,
} from './contract-files.ts';
export {
  CalendarActivationError,
  CalendarStore,
  type CalendarStoreOptions,
  type StageResult,
} from './calendar-store.ts';
export { formatShanghaiIso, parseIsoInstant, toShanghaiWallClock } from './shanghai-time.ts';
