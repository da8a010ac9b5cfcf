"""A DiaLog-style DATEX II v3 traffic regulation publication, written from the XSD by hand."""

# ruff: noqa: E501

DIALOG_PUBLICATION = """<?xml version="1.0" encoding="UTF-8"?>
<d2:payload xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xmlns:d2="http://datex2.eu/schema/3/d2Payload" xmlns:com="http://datex2.eu/schema/3/common"
  xmlns:loc="http://datex2.eu/schema/3/locationReferencing"
  xmlns:tro="http://datex2.eu/schema/3/trafficRegulation"
  xmlns:dx="https://raw.githubusercontent.com/MTES-MCT/dialog/main/docs/spec/datex2"
  modelBaseVersion="3" lang="fr" xsi:type="tro:TrafficRegulationPublication" id="dialog-export">
  <com:publicationTime>2026-12-01T10:00:00+01:00</com:publicationTime>
  <com:publicationCreator><com:country>fr</com:country><com:nationalIdentifier>DiaLog</com:nationalIdentifier></com:publicationCreator>
  <tro:trafficRegulationsFromCompetentAuthorities>
    <tro:trafficRegulationOrder id="F2026/042" version="1">
      <tro:description><com:values><com:value lang="fr">Rue Garibaldi : réfection de chaussée</com:value></com:values></tro:description>
      <tro:issuingAuthority><com:values><com:value lang="fr">Ville de Lyonnay</com:value></com:values></tro:issuingAuthority>
      <tro:regulationId>F2026/042</tro:regulationId>
      <tro:status>madeAndImplemented</tro:status>
      <tro:validityByOrder>
        <com:validityStatus>definedByValidityTimeSpec</com:validityStatus>
        <com:validityTimeSpecification>
          <com:overallStartTime>2027-03-01T21:00:00+01:00</com:overallStartTime>
          <com:overallEndTime>2027-03-13T05:00:00+01:00</com:overallEndTime>
        </com:validityTimeSpecification>
      </tro:validityByOrder>
      {regulations}
    </tro:trafficRegulationOrder>
  </tro:trafficRegulationsFromCompetentAuthorities>
</d2:payload>
"""
CONDITIONS = """
        <tro:condition xsi:type="tro:ConditionSet"><tro:operator>and</tro:operator>
          <tro:conditions xsi:type="tro:ConditionSet"><tro:operator>or</tro:operator>
            <tro:conditions xsi:type="tro:ValidityCondition"><tro:validityByOrder>
              <com:validityStatus>definedByValidityTimeSpec</com:validityStatus>
              <com:validityTimeSpecification>
                <com:overallStartTime>2027-03-01T21:00:00+01:00</com:overallStartTime>
                <com:overallEndTime>2027-03-13T05:00:00+01:00</com:overallEndTime>
                <com:validPeriod>
                  <com:startOfPeriod>2027-03-01T00:00:00</com:startOfPeriod>
                  <com:endOfPeriod>2027-03-12T23:59:59</com:endOfPeriod>
                  <com:recurringTimePeriodOfDay><com:startTimeOfPeriod>21:00:00</com:startTimeOfPeriod><com:endTimeOfPeriod>05:00:00</com:endTimeOfPeriod></com:recurringTimePeriodOfDay>
                  <com:recurringDayWeekMonthPeriod><com:applicableDay>monday</com:applicableDay><com:applicableDay>tuesday</com:applicableDay><com:applicableDay>wednesday</com:applicableDay><com:applicableDay>thursday</com:applicableDay><com:applicableDay>friday</com:applicableDay></com:recurringDayWeekMonthPeriod>
                </com:validPeriod>
              </com:validityTimeSpecification></tro:validityByOrder></tro:conditions>
          </tro:conditions>
          <tro:conditions xsi:type="tro:ConditionSet"><tro:operator>or</tro:operator>
            <tro:conditions xsi:type="tro:LocationCondition">
              <tro:locationByOrder xsi:type="loc:LinearLocation">
                <loc:supplementaryPositionalDescription><loc:roadInformation><loc:roadName>Rue Garibaldi</loc:roadName></loc:roadInformation></loc:supplementaryPositionalDescription>
                <loc:gmlLineString srsName="EPSG:4326"><loc:posList>45.753300 4.851200 45.756100 4.852100 45.758000 4.852500</loc:posList></loc:gmlLineString>
              </tro:locationByOrder>
            </tro:conditions>
          </tro:conditions>{vehicles}
        </tro:condition>"""
REGULATIONS = {
    "noEntry": (
        '<tro:typeOfRegulation xsi:type="tro:AccessRestriction"><tro:accessRestrictionType>noEntry</tro:accessRestrictionType></tro:typeOfRegulation>',
        "",
    ),
    "speedLimitation": (
        '<tro:typeOfRegulation xsi:type="tro:SpeedLimit"><tro:maxValue><tro:numericValue>30</tro:numericValue><tro:unitOfMeasure>kilometresPerHour</tro:unitOfMeasure></tro:maxValue></tro:typeOfRegulation>',
        "",
    ),
    "parkingProhibited": (
        '<tro:typeOfRegulation xsi:type="tro:StandingOrParkingRestriction"><tro:standingOrParkingRestrictionType>parkingProhibited</tro:standingOrParkingRestrictionType></tro:typeOfRegulation>',
        "",
    ),
    "height": (
        '<tro:typeOfRegulation xsi:type="tro:AccessRestriction"><tro:accessRestrictionType>noEntry</tro:accessRestrictionType></tro:typeOfRegulation>',
        '<tro:conditions xsi:type="tro:ConditionSet"><tro:operator>or</tro:operator><tro:conditions xsi:type="tro:VehicleCondition"><tro:negate>false</tro:negate><tro:vehicleCharacteristics><com:heightCharacteristic><com:comparisonOperator>greaterThan</com:comparisonOperator><com:vehicleHeight>3.50</com:vehicleHeight></com:heightCharacteristic></tro:vehicleCharacteristics></tro:conditions></tro:conditions>',
    ),
    "heavy": (
        '<tro:typeOfRegulation xsi:type="tro:AccessRestriction"><tro:accessRestrictionType>noEntry</tro:accessRestrictionType></tro:typeOfRegulation>',
        '<tro:conditions xsi:type="tro:ConditionSet"><tro:operator>or</tro:operator><tro:conditions xsi:type="tro:VehicleCondition"><tro:negate>false</tro:negate><tro:vehicleCharacteristics><com:vehicleType>heavyGoodsVehicle</com:vehicleType></tro:vehicleCharacteristics></tro:conditions></tro:conditions>',
    ),
}
