/** A Telco-shaped CSV of `rows` rows with ids from `offset`, for the small-job benchmarks. */
export function smallCsv(rows: number, offset = 0): string {
  const lines = [
    'customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,InternetService,OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,StreamingMovies,Contract,PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges',
  ];
  for (let i = offset; i < offset + rows; i++) {
    const tenure = (i * 7) % 72;
    lines.push(
      `B${i},Female,0,Yes,No,${tenure},Yes,No,DSL,No,Yes,No,No,No,No,${['Month-to-month', 'One year', 'Two year'][i % 3]},Yes,Mailed check,${20 + (i % 80)}.25,${(tenure * 50).toFixed(2)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
