import { resetBudgets } from '../../nodes/BriaTailored/scheduler/Pacer';

/** Each test of the describe block starts at time 0 on jest's fake clock, with no organization budget known. */
export function useFakeBudgetClock(): void {
	beforeEach(() => {
		jest.useFakeTimers({ now: 0 });
		resetBudgets();
	});
	afterEach(() => {
		resetBudgets();
		jest.useRealTimers();
	});
}
